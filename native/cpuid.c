// cpuid(leaf, subleaf) -> [eax, ebx, ecx, edx]: the x86 CPUID instruction. Nix 2.8 finds the
// machine's x86-64 levels (extra-platforms) from it through libcpuid; /proc/cpuinfo can lack a
// flag that CPUID reports (a kernel or hypervisor may hide it), so tix reads CPUID as Nix does.
// A leaf above the highest one the CPU has gives four zeros; on other CPUs the call throws.
#include <stdint.h>
#include <node_api.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

static napi_value cpuid(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  uint32_t leaf = 0, sub = 0;
  if (argc < 1 || napi_get_value_uint32(env, argv[0], &leaf) != napi_ok ||
      (argc > 1 && napi_get_value_uint32(env, argv[1], &sub) != napi_ok)) {
    napi_throw_type_error(env, "ERR_CPUID", "cpuid: expected a leaf and a subleaf number");
    return NULL;
  }
#if defined(__x86_64__) || defined(__i386__)
  unsigned int r[4] = {0, 0, 0, 0};
  unsigned int max = __get_cpuid_max(leaf & 0x80000000u, NULL);
  if (max != 0 && leaf <= max) __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
  napi_value out;
  if (napi_create_array_with_length(env, 4, &out) != napi_ok) return NULL;
  for (uint32_t i = 0; i < 4; i++) {
    napi_value n;
    if (napi_create_uint32(env, r[i], &n) != napi_ok) return NULL;
    if (napi_set_element(env, out, i, n) != napi_ok) return NULL;
  }
  return out;
#else
  (void)leaf;
  (void)sub;
  napi_throw_error(env, "ERR_CPUID", "cpuid: not an x86 CPU");
  return NULL;
#endif
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "cpuid", NAPI_AUTO_LENGTH, cpuid, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "cpuid", fn) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
