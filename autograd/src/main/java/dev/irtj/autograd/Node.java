package dev.irtj.autograd;

/**
 * The record of one differentiable operation: its inputs and a backward function mapping the
 * gradient of its output to the gradients of its inputs (null for an input that needs none).
 * The backward function holds whatever the op saved (e.g. softmax's output); releasing the node
 * drops those references.
 */
final class Node {
    final String op;
    Var[] inputs;
    private Backward backward;

    Node(String op, Var[] inputs, Backward backward) {
        this.op = op;
        this.inputs = inputs;
        this.backward = backward;
    }

    Backward backward() {
        if (backward == null) {
            throw new IllegalStateException("the graph through '" + op + "' was released by an earlier backward(); "
                    + "pass retainGraph=true to backward() to run it twice");
        }
        return backward;
    }

    /** Drops the saved tensors and the links to inputs; a later backward through here fails clearly. */
    void release() {
        backward = null;
        inputs = new Var[0];
    }
}
