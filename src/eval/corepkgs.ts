// Files Nix 2.8 builds into the evaluator and serves as <nix/…>: fetchurl.nix, a fixed-output
// derivation using the builtin:fetchurl builder. Its attributes must be exactly those of Nix's,
// since they decide the .drv bytes.

export const CORE_PKGS_PREFIX = '/__corepkgs__/';

const FETCHURL_NIX = `
{ system ? ""
, url
, hash ? ""
, md5 ? "", sha1 ? "", sha256 ? "", sha512 ? ""
, outputHash ?
    if hash != "" then hash
    else if sha512 != "" then sha512
    else if sha1 != "" then sha1
    else if md5 != "" then md5
    else sha256
, outputHashAlgo ?
    if hash != "" then ""
    else if sha512 != "" then "sha512"
    else if sha1 != "" then "sha1"
    else if md5 != "" then "md5"
    else "sha256"
, executable ? false
, unpack ? false
, name ? baseNameOf (toString url)
, impure ? false
}:
derivation ({
  builder = "builtin:fetchurl";
  outputHashMode = if unpack || executable then "recursive" else "flat";
  inherit name url executable unpack;
  system = "builtin";
  preferLocalBuild = true;
  impureEnvVars = [ "http_proxy" "https_proxy" "ftp_proxy" "all_proxy" "no_proxy" ];
  urls = [ url ];
} // (if impure then { __impure = true; } else { inherit outputHashAlgo outputHash; }))
`;

export const CORE_PKGS = new Map<string, string>([['fetchurl.nix', FETCHURL_NIX]]);
