using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Convolution;

/// <summary>Attributes shared by Conv and ConvTranspose, validated once when the kernel is created.</summary>
internal sealed class ConvAttributes
{
    private readonly string _opType;

    public ConvAttributes(KernelInfo info)
    {
        _opType = info.OpType;
        AutoPad = info.GetString("auto_pad", "NOTSET");
        if (AutoPad is not ("NOTSET" or "SAME_UPPER" or "SAME_LOWER" or "VALID"))
        {
            throw new KernelException($"{_opType} auto_pad '{AutoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
        }

        Group = info.GetInt("group", 1);
        if (Group < 1)
        {
            throw new KernelException($"{_opType} group must be >= 1, got {Group}");
        }

        KernelShape = info.GetInts("kernel_shape");
        Strides = info.GetInts("strides");
        Dilations = info.GetInts("dilations");
        Pads = info.GetInts("pads");
        OutputPadding = info.GetInts("output_padding");
        OutputShape = info.GetInts("output_shape");
    }

    public string AutoPad { get; }

    public long Group { get; }

    public long[]? KernelShape { get; }

    public long[]? Strides { get; }

    public long[]? Dilations { get; }

    public long[]? Pads { get; }

    public long[]? OutputPadding { get; }

    public long[]? OutputShape { get; }

    /// <summary>The kernel's spatial shape: the attribute when given (it must agree with W), else W's trailing dims.</summary>
    public int[] ResolveKernel(int[] weightShape, int rank)
    {
        var kernel = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            kernel[d] = weightShape[2 + d];
            if (KernelShape is not null && (KernelShape.Length != rank || KernelShape[d] != kernel[d]))
            {
                throw new KernelException($"{_opType} kernel_shape [{string.Join(",", KernelShape)}] disagrees with W {ShapeMath.Format(weightShape)}");
            }
        }

        return kernel;
    }

    /// <summary>Per-axis values of an optional attribute, checked to be positive (strides, dilations).</summary>
    public int[] PerAxis(long[]? values, string name, int rank, int fallback, int minimum)
    {
        var result = new int[rank];
        if (values is null || values.Length == 0)
        {
            Array.Fill(result, fallback);
            return result;
        }

        if (values.Length != rank)
        {
            throw new KernelException($"{_opType} {name} has {values.Length} values for {rank} spatial axes");
        }

        for (int d = 0; d < rank; d++)
        {
            if (values[d] < minimum || values[d] > int.MaxValue)
            {
                throw new KernelException($"{_opType} {name} value {values[d]} is out of range");
            }

            result[d] = (int)values[d];
        }

        return result;
    }

    /// <summary>Explicit pads split into begin and end halves (zeros when absent).</summary>
    public (int[] Begin, int[] End) ExplicitPads(int rank)
    {
        var begin = new int[rank];
        var end = new int[rank];
        if (Pads is null || Pads.Length == 0)
        {
            return (begin, end);
        }

        if (Pads.Length != 2 * rank)
        {
            throw new KernelException($"{_opType} pads has {Pads.Length} values, expected {2 * rank}");
        }

        for (int d = 0; d < rank; d++)
        {
            if (Pads[d] < 0 || Pads[d + rank] < 0)
            {
                throw new KernelException($"{_opType} pads must be non-negative");
            }

            begin[d] = (int)Pads[d];
            end[d] = (int)Pads[d + rank];
        }

        return (begin, end);
    }
}
