package dev.irtj.tensor;

/** Sizes of a stride-equals-kernel convolution of x [B, C, H, W] by weight [D, C, p, q]. */
public record PatchGeometry(int batch, int channels, int height, int width, int outChannels, int patchH, int patchW) {

    public static PatchGeometry of(int[] input, int[] weight) {
        if (input.length != 4 || weight.length != 4) {
            throw new IllegalArgumentException("patch convolution needs x [B, C, H, W] and weight [D, C, p, q], got "
                    + Shape.str(input) + " and " + Shape.str(weight));
        }
        if (input[1] != weight[1]) {
            throw new IllegalArgumentException("patch convolution: input has " + input[1] + " channels, weight expects " + weight[1]);
        }
        if (input[2] % weight[2] != 0 || input[3] % weight[3] != 0) {
            throw new IllegalArgumentException("image " + input[2] + "x" + input[3] + " is not a multiple of the patch "
                    + weight[2] + "x" + weight[3]);
        }
        return new PatchGeometry(input[0], input[1], input[2], input[3], weight[0], weight[2], weight[3]);
    }

    public int gridH() {
        return height / patchH;
    }

    public int gridW() {
        return width / patchW;
    }
}
