# The package set bundled with tix: `import <tix> {}`.
#
# Everything here is built with nothing but the sandbox's /bin/sh. In tix's sandbox that is a static
# busybox whose standalone shell also provides the usual tools (mkdir, ln, cat, ...), as on NixOS.
# `writeText` uses only shell built-ins, so it also builds on a plain Nix builder without a sandbox.
{ system ? builtins.currentSystem }:

let
  shell = "/bin/sh";

  # A derivation running `script` with /bin/sh. `env` becomes the builder's environment.
  mkScriptDerivation = name: env: script:
    derivation ({
      inherit name system;
      builder = shell;
      args = [ "-c" script ];
    } // env);

  writeTextFile = { name, text, executable ? false, destination ? "" }:
    mkScriptDerivation name {
      inherit text executable destination;
      passAsFile = [ "text" ];
    } ''
      if [ -n "$destination" ]; then
        target="$out$destination"
        dir="''${target%/*}"
        mkdir -p "$dir"
      else
        target="$out"
      fi
      cat "$textPath" > "$target"
      if [ "$executable" = 1 ]; then chmod +x "$target"; fi
    '';

in rec {
  inherit writeTextFile;

  # A file holding `text`, byte for byte.
  writeText = name: text:
    mkScriptDerivation name { inherit text; } ''printf '%s' "$text" > "$out"'';

  # An executable file holding `text`.
  writeScript = name: text:
    writeTextFile { inherit name text; executable = true; };

  # An executable shell script with a #! line for the sandbox's shell.
  writeShellScript = name: text:
    writeTextFile {
      inherit name;
      executable = true;
      text = "#!${shell}\n${text}";
    };

  # Runs `buildCommand` with `env` in the environment; the command must create $out.
  runCommand = name: env: buildCommand:
    mkScriptDerivation name (env // { inherit buildCommand; }) ''eval "$buildCommand"'';

  # A directory of symlinks to the contents of all `paths`.
  symlinkJoin = { name, paths, postBuild ? "" }:
    runCommand name { inherit paths postBuild; } ''
      mkdir -p "$out"
      for p in $paths; do
        (cd "$p" && find . -mindepth 1 | while IFS= read -r f; do
          f="''${f#./}"
          if [ -d "$p/$f" ] && [ ! -L "$p/$f" ]; then
            mkdir -p "$out/$f"
          elif [ ! -e "$out/$f" ]; then
            ln -s "$p/$f" "$out/$f"
          fi
        done)
      done
      eval "$postBuild"
    '';
}
