// Error checks for CUDA runtime, cuBLAS and cuDNN calls: the message names the failing call,
// the backend primitive (op) it ran for, and file:line.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <string>

#include "engine/core.h"

namespace imx::cuda_detail {

[[noreturn]] inline void raise(const char* api, const char* call, const std::string& status,
                               const char* op, const char* file, int line) {
  throw Error(std::string("cuda: ") + api + " call `" + call + "` failed with " + status +
              " in " + op + " at " + file + ":" + std::to_string(line));
}

}  // namespace imx::cuda_detail

#define IMX_CUDA_CHECK(call)                                                                 \
  do {                                                                                       \
    const cudaError_t imx_status_ = (call);                                                  \
    if (imx_status_ != cudaSuccess)                                                          \
      ::imx::cuda_detail::raise("CUDA runtime", #call, cudaGetErrorString(imx_status_),      \
                                __func__, __FILE__, __LINE__);                               \
  } while (0)

#define IMX_CUBLAS_CHECK(call)                                                               \
  do {                                                                                       \
    const cublasStatus_t imx_status_ = (call);                                               \
    if (imx_status_ != CUBLAS_STATUS_SUCCESS)                                                \
      ::imx::cuda_detail::raise("cuBLAS", #call, cublasGetStatusString(imx_status_),         \
                                __func__, __FILE__, __LINE__);                               \
  } while (0)

#define IMX_CUDNN_CHECK(call)                                                                \
  do {                                                                                       \
    const cudnnStatus_t imx_status_ = (call);                                                \
    if (imx_status_ != CUDNN_STATUS_SUCCESS)                                                 \
      ::imx::cuda_detail::raise("cuDNN", #call, cudnnGetErrorString(imx_status_), __func__,  \
                                __FILE__, __LINE__);                                         \
  } while (0)

// Launch errors surface at the next runtime call; check right after each launch.
#define IMX_CUDA_CHECK_LAUNCH() IMX_CUDA_CHECK(cudaGetLastError())
