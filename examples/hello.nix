# The Quick start's example: a file whose contents embed the build time, built with the bundled
# package set (the seed's check, with <tix> in place of <nixpkgs>).
with import <tix> { };
writeText "hello" "Hello from tix, built at $(date)\n"
