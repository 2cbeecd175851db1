package dev.irtj.tensor;

/** What {@link Tensor#topk} returns: the values (x's dtype) and their I64 positions, both of {@link TopKPlan#outShape}. */
public record TopK(Tensor values, Tensor indices) {
}
