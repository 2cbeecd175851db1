package dev.irtj.kernels.cuda;

import dev.irtj.tensor.Backends;
import dev.irtj.tensor.CudaDevice;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs a test only where F32 products go through cuBLAS; elsewhere it is reported as skipped with
 * the reason (no CUDA device, or why neither JCublas2 nor JavaCPP's cuBLAS loaded), so that a
 * machine without cuBLAS shows a skipped test rather than our own GEMM tested twice.
 */
final class CublasInUse implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        String noDevice = CudaDevice.problem();
        if (noDevice != null) return ConditionEvaluationResult.disabled("no CUDA device: " + noDevice);
        String why = ((CudaBackend) Backends.byName("cuda")).cublasProblem();
        return why == null ? ConditionEvaluationResult.enabled("cuBLAS in use")
                : ConditionEvaluationResult.disabled("cuBLAS not in use: " + why);
    }
}
