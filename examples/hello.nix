# The Quick start's example: a file whose contents embed the time it was built, made with the
# package set bundled with tix (`<tix>`: writeText, writeScript, writeShellScript, runCommand,
# symlinkJoin), and built in tix's sandbox whose /bin/sh is a static busybox.
with import <tix> { };
runCommand "hello" { } ''
  echo "Hello from tix, built at $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -m)" > $out
''
