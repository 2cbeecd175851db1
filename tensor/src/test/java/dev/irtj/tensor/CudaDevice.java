package dev.irtj.tensor;

import net.jqwik.api.lifecycle.LifecycleContext;
import net.jqwik.api.lifecycle.SkipExecutionHook;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs GPU tests only where a CUDA backend can start (a device, its driver and JCuda's native
 * libraries); elsewhere they are reported as skipped, with the reason. Jupiter tests use
 * {@code @ExtendWith(CudaDevice.class)}, jqwik properties {@code @AddLifecycleHook(CudaDevice.class)}.
 */
public final class CudaDevice implements ExecutionCondition, SkipExecutionHook {
    public static final Device DEVICE = Device.cuda(0);

    /** Null when CUDA can run; otherwise why the GPU tests are skipped. */
    public static String problem() {
        return Devices.cudaProblem();
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        String why = problem();
        return why == null ? ConditionEvaluationResult.enabled("CUDA device present")
                : ConditionEvaluationResult.disabled("no CUDA device: " + why);
    }

    @Override
    public SkipResult shouldBeSkipped(LifecycleContext context) {
        String why = problem();
        return why == null ? SkipResult.doNotSkip() : SkipResult.skip("no CUDA device: " + why);
    }
}
