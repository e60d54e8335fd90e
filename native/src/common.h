// Shared pieces of the netc oneDNN addon: the CPU engine, the scratch arena and argument
// helpers. Everything runs on the JavaScript thread (tfjs CPU kernels are synchronous);
// oneDNN parallelizes inside each call with OpenMP.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <dnnl.hpp>

namespace netc {

dnnl::engine& cpuEngine();
dnnl::stream& cpuStream();

// Internal buffers (oneDNN's blocked layouts, scratchpads) are reused across calls, one
// growable buffer per role, so that memory does not grow with the number of cached shapes.
enum ScratchSlot { kSlotSrc, kSlotWeights, kSlotRotatedWeights, kSlotDst, kSlotPad, kSlotCount };
void* scratch(ScratchSlot slot, size_t bytes);
void releaseScratch();

/** The float data of a Float32Array argument, checked to hold exactly `expected` floats. */
float* floatData(const Napi::Value& value, size_t expected, const char* name);
/** Like floatData, but null/undefined gives nullptr. */
float* optionalFloatData(const Napi::Value& value, size_t expected, const char* name);

Napi::Value convForward(const Napi::CallbackInfo& info);
Napi::Value convBackwardData(const Napi::CallbackInfo& info);
Napi::Value convBackwardWeights(const Napi::CallbackInfo& info);
void registerEltwise(Napi::Env env, Napi::Object exports);
size_t convCacheSize();
size_t convExecutions();
/** Backward-weights plans that read activations in oneDNN's blocked layout (not NHWC). */
size_t blockedWeightGradPlans();
void clearConvCache();

}  // namespace netc
