using System.Numerics;
using System.Numerics.Tensors;
using Tessera.Kernels.Core;
using Tessera.Kernels.Pooling;
using Tessera.Tensors;
using Tensor = Tessera.Tensors.Tensor;

namespace Tessera.Kernels.Normalization;

/// <summary>
/// InstanceNormalization (opset 6): each contiguous (n, c) spatial plane is normalised with its own mean and
/// variance, then scaled and shifted per channel; planes run in parallel.
/// </summary>
internal sealed unsafe class InstanceNormalizationKernel(KernelInfo info) : IKernel
{
    private readonly float _epsilon = info.GetFloat("epsilon", 1e-5f);

    public void Compute(KernelContext context)
    {
        Tensor x = context.RequiredInput(0, "input");
        Tensor scale = context.RequiredInput(1, "scale");
        Tensor bias = context.RequiredInput(2, "B");
        NormalizationParameters.ComputeType(x.DataType, "InstanceNormalization");
        if (x.Rank < 2)
        {
            throw new KernelException($"InstanceNormalization needs an input of rank 2 or more (N x C x ...), got {ShapeMath.Format(x.Shape)}");
        }

        int channels = x.Shape[1];
        if (scale.Length != channels || bias.Length != channels)
        {
            throw new KernelException($"InstanceNormalization scale {ShapeMath.Format(scale.Shape)} and B {ShapeMath.Format(bias.Shape)} must have {channels} elements");
        }

        Tensor y = context.AllocateOutput(0, x.DataType, x.Shape);
        int planes = x.Shape[0] * channels;
        int size = ShapeMath.Product(x.Shape, 2, x.Rank);
        if (planes == 0 || size == 0)
        {
            return;
        }

        switch (x.DataType)
        {
            case DataType.Float32:
                Run(context.Parallel, x, y, planes, channels, size, NormalizationParameters.Read<float>(scale), NormalizationParameters.Read<float>(bias));
                break;
            case DataType.Float64:
                Run(context.Parallel, x, y, planes, channels, size, NormalizationParameters.Read<double>(scale), NormalizationParameters.Read<double>(bias));
                break;
            default:
                var single = Tensor.Allocate(DataType.Float32, x.Shape);
                Run(context.Parallel, HalfBridge.ToSingle(x), single, planes, channels, size,
                    NormalizationParameters.Read<float>(scale), NormalizationParameters.Read<float>(bias));
                HalfBridge.CopyToHalf(single, y);
                break;
        }
    }

    private void Run<T>(ParallelRunner parallel, Tensor x, Tensor y, int planes, int channels, int size, T[] scale, T[] bias)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T epsilon = T.CreateChecked(_epsilon);
        T count = T.CreateChecked(size);
        parallel.ForRange(planes, Math.Max(1, 16384 / size), (start, end) =>
        {
            for (int p = start; p < end; p++)
            {
                var plane = new ReadOnlySpan<T>((T*)x.Pointer + (long)p * size, size);
                T mean = NormalizationMath.Mean(plane);
                T variance = NormalizationMath.CenteredSquares(plane, mean) / count;
                int c = p % channels;
                T a = scale[c] / T.Sqrt(variance + epsilon);
                NormalizationMath.Affine(plane, a, bias[c] - mean * a, new Span<T>((T*)y.Pointer + (long)p * size, size));
            }
        });
    }
}
