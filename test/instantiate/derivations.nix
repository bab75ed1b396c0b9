# Derivation expressions instantiated by both Nix 2.8 and tix (instantiate.test.ts): every kind of
# input the evaluator turns into a .drv — dependencies, several outputs, passAsFile, structured
# attributes, fixed outputs (flat and recursive, several hash algorithms and encodings), paths and
# directories copied to the store, toFile with references, filterSource, builtins.path — plus the
# <tix> package set. The result is an attribute set of derivations; nix-instantiate prints them in
# attribute-name order.
{ system ? "x86_64-linux" }:
let
  sh = "/bin/sh";
  mk = name: attrs: derivation ({ inherit name system; builder = sh; args = [ "-c" "echo ${name} > $out" ]; } // attrs);
  dep = mk "dep" { };
  multi = mk "multi" { outputs = [ "out" "dev" "doc" ]; };
  src = ./fixture;
  file = ./fixture/hello.txt;
  textRef = builtins.toFile "with-ref" "depends on ${./fixture/hello.txt}";
  tix = import <tix> { inherit system; };
  fixed = algo: hash: mode: derivation {
    name = "fixed-${algo}-${mode}"; inherit system; builder = sh;
    args = [ "-c" "echo fixed > $out" ];
    outputHashAlgo = algo; outputHash = hash; outputHashMode = mode;
  };
  chain = n: if n == 0 then dep else mk "chain-${toString n}" { prev = chain (n - 1); };
in
builtins.listToAttrs (builtins.genList (i: { name = "chain${toString i}"; value = chain (i + 1); }) 12) // {
  a01-plain = mk "plain" { };
  a02-dep = mk "uses-dep" { inherit dep; };
  a03-multi-out = mk "uses-multi-out" { m = multi; };
  a04-multi-dev = mk "uses-multi-dev" { m = multi.dev; };
  a05-multi-both = mk "uses-both" { a = multi.dev; b = multi.doc; c = multi.out; };
  a06-multi = multi;
  a07-multi-dev-attr = multi.dev;
  a08-passAsFile = mk "pass" { big = "a long text\nwith lines"; passAsFile = [ "big" ]; };
  a09-passAsFile-ref = mk "pass-ref" { big = "${dep}/bin"; passAsFile = [ "big" ]; };
  a10-structured = mk "structured" { __structuredAttrs = true; list = [ 1 2 "x" ]; nested = { a = true; b = null; }; };
  a11-structured-ref = mk "structured-ref" { __structuredAttrs = true; inherit dep; outputs = [ "out" "lib" ]; };
  a12-src-dir = mk "src-dir" { inherit src; };
  a13-src-file = mk "src-file" { inherit file; };
  a14-src-interp = mk "src-interp" { s = "${./fixture/hello.txt}"; };
  a15-toFile = mk "to-file" { f = builtins.toFile "plain.txt" "plain text"; };
  a16-toFile-ref = mk "to-file-ref" { f = textRef; };
  a17-filterSource = mk "filtered" { s = builtins.filterSource (p: t: baseNameOf p != "skip.txt") ./fixture; };
  a18-path = mk "path" { s = builtins.path { path = ./fixture; name = "named-src"; }; };
  a19-path-flat = mk "path-flat" { s = builtins.path { path = ./fixture/hello.txt; recursive = false; }; };
  a20-fixed-sha256-flat = fixed "sha256" "0000000000000000000000000000000000000000000000000000" "flat";
  a21-fixed-sha256-rec = fixed "sha256" "0000000000000000000000000000000000000000000000000000" "recursive";
  a22-fixed-sha1 = fixed "sha1" "0000000000000000000000000000000000000000" "flat";
  a23-fixed-sha512 = fixed "sha512" (builtins.hashString "sha512" "x") "flat";
  a24-fixed-md5 = fixed "md5" (builtins.hashString "md5" "x") "flat";
  a25-fixed-sri = derivation { name = "sri"; inherit system; builder = sh; outputHash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; outputHashMode = "recursive"; };
  a26-fixed-base16 = fixed "sha256" (builtins.hashString "sha256" "y") "recursive";
  a27-uses-fixed = mk "uses-fixed" { f = fixed "sha256" (builtins.hashString "sha256" "z") "flat"; };
  a28-args = derivation { name = "args"; inherit system; builder = sh; args = [ "-c" "a\tb" "\"q\"" "$x" "\\" ]; };
  a29-env-types = mk "env-types" { i = 42; f = 1.5; t = true; n = null; l = [ "a" 1 [ "b" ] ]; s = "unicode é ü 漢"; };
  a30-empty-env = derivation { name = "empty"; inherit system; builder = sh; };
  a31-outputs-order = mk "outputs-order" { outputs = [ "z" "a" "out" ]; };
  a32-placeholder = mk "placeholder" { outputs = [ "out" "bin" ]; p = "${placeholder "bin"}/x"; };
  a33-unsafe-discard = mk "discard" { d = builtins.unsafeDiscardStringContext "${dep}"; };
  a34-drvPath-ref = mk "drvpath-ref" { d = dep.drvPath; };
  a35-tix-writeText = tix.writeText "test" "$(date)";
  a36-tix-writeScript = tix.writeScript "script" "echo hi";
  a37-tix-shellScript = tix.writeShellScript "shell" "echo hi";
  a38-tix-runCommand = tix.runCommand "rc" { x = dep; } "echo $x > $out";
  a39-tix-symlinkJoin = tix.symlinkJoin { name = "joined"; paths = [ dep multi ]; };
  a40-builder-path = derivation { name = "builder-path"; inherit system; builder = ./fixture/builder.sh; };
  a41-builder-drv = derivation { name = "builder-drv"; inherit system; builder = "${dep}/bin/sh"; };
  a42-system-other = derivation { name = "other-system"; system = "aarch64-linux"; builder = sh; };
  a43-features = mk "features" { requiredSystemFeatures = [ "kvm" "big-parallel" ]; };
  a44-prefer-local = mk "prefer" { preferLocalBuild = true; allowSubstitutes = false; };
  a45-many-inputs = mk "many" (builtins.listToAttrs (builtins.genList (i: { name = "d${toString i}"; value = mk "in-${toString i}" { }; }) 20));
  a46-long-name = mk "a-rather-long-derivation-name-with-version-1.2.3" { };
  a47-name-chars = mk "name+with_chars.and=more?" { };
  a48-exportReferencesGraph = mk "graph" { exportReferencesGraph = [ "g" dep ]; };
  a49-context-concat = mk "concat" { s = "a" + "${dep}" + "${multi.dev}"; };
  a50-nested-lists = mk "nested" { l = [ [ dep ] [ multi.doc ] ]; };
  a51-impure-env = mk "impure" { impureEnvVars = [ "http_proxy" ]; };
  a52-allowed-refs = mk "refs" { allowedReferences = [ ]; disallowedReferences = [ dep ]; };
  # Paths written while instantiating are valid, so they can be read back (their references
  # become the context of what is read).
  a53-read-back = mk "read-back" {
    drv = builtins.readFile dep.drvPath;
    text = builtins.readFile textRef;
    src = builtins.readFile "${./fixture/hello.txt}";
  };
}
