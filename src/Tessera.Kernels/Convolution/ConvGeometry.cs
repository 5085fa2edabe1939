namespace Tessera.Kernels.Convolution;

/// <summary>The resolved spatial arithmetic of one convolution: per spatial axis the input, kernel, stride, dilation, pads and output.</summary>
internal sealed class ConvGeometry
{
    public ConvGeometry(int[] input, int[] kernel, int[] strides, int[] dilations, int[] padBegin, int[] padEnd, int[] output)
    {
        Input = input;
        Kernel = kernel;
        Strides = strides;
        Dilations = dilations;
        PadBegin = padBegin;
        PadEnd = padEnd;
        Output = output;
        InputSize = Product(input);
        KernelSize = Product(kernel);
        OutputSize = Product(output);
    }

    public int Rank => Input.Length;

    public int[] Input { get; }

    public int[] Kernel { get; }

    public int[] Strides { get; }

    public int[] Dilations { get; }

    public int[] PadBegin { get; }

    public int[] PadEnd { get; }

    public int[] Output { get; }

    public int InputSize { get; }

    public int KernelSize { get; }

    public int OutputSize { get; }

    /// <summary>A 1x1 kernel with unit strides and no padding: the convolution is a plain matrix product.</summary>
    public bool IsPointwise
    {
        get
        {
            for (int d = 0; d < Rank; d++)
            {
                if (Kernel[d] != 1 || Strides[d] != 1 || PadBegin[d] != 0 || PadEnd[d] != 0)
                {
                    return false;
                }
            }

            return true;
        }
    }

    private static int Product(int[] dims)
    {
        long p = 1;
        foreach (int d in dims)
        {
            p *= d;
        }

        return checked((int)p);
    }
}
