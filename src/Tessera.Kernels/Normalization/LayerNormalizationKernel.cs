using System.Numerics;
using Tessera.Kernels.Core;
using Tessera.Kernels.Pooling;
using Tessera.Tensors;

namespace Tessera.Kernels.Normalization;

/// <summary>
/// LayerNormalization (opset 17): each row of the trailing axes [axis, rank) is normalised with a vectorised
/// two-pass mean/variance and one fused (x - mean) * invStdDev * scale + bias pass; rows run in parallel.
/// Float16 computes in float32 (stash_type 1); Mean and InvStdDev are float32, or float64 for float64 input.
/// </summary>
internal sealed unsafe class LayerNormalizationKernel : IKernel
{
    private readonly long _axis;
    private readonly float _epsilon;

    // Scale and bias already expanded to the normalized shape in the compute type, cached across runs when constant.
    private readonly ParameterCache _scale;
    private readonly ParameterCache _bias;

    public LayerNormalizationKernel(KernelInfo info)
    {
        _axis = info.GetInt("axis", -1);
        _epsilon = info.GetFloat("epsilon", 1e-5f);
        long stashType = info.GetInt("stash_type", 1);
        if (stashType is not (1 or 11 or 10 or 16))
        {
            throw new KernelException($"LayerNormalization stash_type {stashType} is not a floating-point type");
        }

        _scale = new ParameterCache(info.ConstantInput(1), "LayerNormalization Scale");
        _bias = new ParameterCache(info.ConstantInput(2), "LayerNormalization B");
    }

    public void Compute(KernelContext context)
    {
        Tensor x = context.RequiredInput(0, "X");
        Tensor scale = context.RequiredInput(1, "Scale");
        Tensor? bias = context.Input(2);
        DataType computeType = NormalizationParameters.ComputeType(x.DataType, "LayerNormalization");
        if (x.Rank == 0)
        {
            throw new KernelException("LayerNormalization needs an input of rank 1 or more");
        }

        int axis;
        try
        {
            axis = ShapeMath.NormalizeAxis(_axis, x.Rank);
        }
        catch (ArgumentException e)
        {
            throw new KernelException($"LayerNormalization {e.Message}");
        }

        ReadOnlySpan<int> normalized = x.Shape.AsSpan(axis);
        int rows = ShapeMath.Product(x.Shape, 0, axis);
        int size = ShapeMath.Product(x.Shape, axis, x.Rank);
        Tensor scaleT = _scale.Get(scale, computeType, normalized);
        Tensor? biasT = bias is null ? null : _bias.Get(bias, computeType, normalized);

        Tensor y = context.AllocateOutput(0, x.DataType, x.Shape);
        Tensor? mean = null, inv = null;
        if (context.IsOutputRequested(1) || context.IsOutputRequested(2))
        {
            var statShape = (int[])x.Shape.Clone();
            for (int i = axis; i < statShape.Length; i++)
            {
                statShape[i] = 1;
            }

            mean = context.IsOutputRequested(1) ? context.AllocateOutput(1, computeType, statShape) : null;
            inv = context.IsOutputRequested(2) ? context.AllocateOutput(2, computeType, statShape) : null;
        }

        if (rows == 0 || size == 0)
        {
            return;
        }

        switch (x.DataType)
        {
            case DataType.Float32:
                Run<float>(context.Parallel, x, y, rows, size, scaleT, biasT, mean, inv);
                break;
            case DataType.Float64:
                Run<double>(context.Parallel, x, y, rows, size, scaleT, biasT, mean, inv);
                break;
            default:
                var single = Tensor.Allocate(DataType.Float32, x.Shape);
                Run<float>(context.Parallel, HalfBridge.ToSingle(x), single, rows, size, scaleT, biasT, mean, inv);
                HalfBridge.CopyToHalf(single, y);
                break;
        }
    }

    private void Run<T>(ParallelRunner parallel, Tensor x, Tensor y, int rows, int size, Tensor scale, Tensor? bias, Tensor? mean, Tensor? inv)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T epsilon = T.CreateChecked(_epsilon);
        T count = T.CreateChecked(size);
        var body = new RowBody<T>(x, y, size, scale, bias, mean, inv, epsilon, count);
        parallel.ForRange(rows, Math.Max(1, 16384 / size), ref body);
    }

    private readonly struct RowBody<T>(Tensor x, Tensor y, int size, Tensor scale, Tensor? bias, Tensor? mean, Tensor? inv, T epsilon, T count) : IRangeBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Invoke(int start, int end)
        {
            ReadOnlySpan<T> s = scale.Span<T>();
            ReadOnlySpan<T> b = bias is null ? default : bias.Span<T>();
            T* input = (T*)x.Pointer, output = (T*)y.Pointer;
            for (int r = start; r < end; r++)
            {
                var row = new ReadOnlySpan<T>(input + (long)r * size, size);
                T m = NormalizationMath.Mean(row);
                T variance = NormalizationMath.CenteredSquares(row, m) / count;
                T invStdDev = T.One / T.Sqrt(variance + epsilon);
                var dest = new Span<T>(output + (long)r * size, size);
                NormalizationMath.Normalize(row, m, invStdDev, s, b, dest);
                if (mean is not null)
                {
                    ((T*)mean.Pointer)[r] = m;
                }

                if (inv is not null)
                {
                    ((T*)inv.Pointer)[r] = invStdDev;
                }
            }

            // The raw pointers do not keep the tensors' storage alive on their own.
            GC.KeepAlive(x);
            GC.KeepAlive(y);
            GC.KeepAlive(mean);
            GC.KeepAlive(inv);
            GC.KeepAlive(scale);
            GC.KeepAlive(bias);
        }
    }
}
