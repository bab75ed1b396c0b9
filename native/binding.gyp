{
  "targets": [
    {
      "target_name": "peercred",
      "sources": ["peercred.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    },
    {
      "target_name": "cpuid",
      "sources": ["cpuid.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
