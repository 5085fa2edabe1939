using Tessera.Kernels.Convolution;
using Tessera.Kernels.Core;

namespace Tessera.Kernels.Quantization;

/// <summary>Resolves a convolution's spatial arithmetic (auto_pad included) for the integer convolutions, as Conv does.</summary>
internal static class IntegerConvGeometry
{
    public static ConvGeometry Resolve(ConvAttributes attributes, string opType, int[] xShape, int[] wShape)
    {
        int rank = xShape.Length - 2;
        var kernel = attributes.ResolveKernel(wShape, rank);
        var strides = attributes.PerAxis(attributes.Strides, "strides", rank, 1, 1);
        var dilations = attributes.PerAxis(attributes.Dilations, "dilations", rank, 1, 1);
        var (begin, end) = attributes.AutoPad == "NOTSET" ? attributes.ExplicitPads(rank) : (new int[rank], new int[rank]);
        var output = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            int input = xShape[d + 2];
            int extent = (dilations[d] * (kernel[d] - 1)) + 1;
            if (attributes.AutoPad is "SAME_UPPER" or "SAME_LOWER")
            {
                output[d] = (input + strides[d] - 1) / strides[d];
                int total = Math.Max(0, ((output[d] - 1) * strides[d]) + extent - input);
                begin[d] = attributes.AutoPad == "SAME_UPPER" ? total / 2 : total - (total / 2);
                end[d] = total - begin[d];
            }
            else
            {
                long span = (long)input + begin[d] + end[d] - extent;
                if (span < 0)
                {
                    throw new KernelException($"{opType} kernel extent {extent} exceeds padded input {input + begin[d] + end[d]} on axis {d}");
                }

                output[d] = (int)(span / strides[d]) + 1;
            }
        }

        return new ConvGeometry(xShape[2..], kernel, strides, dilations, begin, end, output);
    }
}
