using System.Numerics;
using System.Numerics.Tensors;
using Tessera.Kernels.Core;
using Tessera.Tensors;
using Tensor = Tessera.Tensors.Tensor;

namespace Tessera.Kernels.Reduction;

/// <summary>
/// CumSum along the axis given by input 1, optionally exclusive and/or reversed. Sums run in sequence order
/// like NumPy's cumsum; when the axis is not the last, whole rows of length inner are added with vector ops.
/// </summary>
internal sealed class CumSumKernel : IKernel
{
    private readonly bool _exclusive;
    private readonly bool _reverse;

    public CumSumKernel(KernelInfo info)
    {
        _exclusive = info.GetInt("exclusive", 0) != 0;
        _reverse = info.GetInt("reverse", 0) != 0;
    }

    public void Compute(KernelContext context)
    {
        var input = context.RequiredInput(0, "x");
        var axisTensor = context.RequiredInput(1, "axis");
        if (input.Rank == 0)
        {
            throw new KernelException("CumSum needs an input of rank 1 or more");
        }

        int axis = IntegerInput.NormalizeAxis(IntegerInput.ReadScalar(axisTensor, "CumSum axis"), input.Rank, "CumSum");
        int outer = ShapeMath.Product(input.Shape, 0, axis);
        int length = input.Shape[axis];
        int inner = ShapeMath.Product(input.Shape, axis + 1, input.Rank);
        var output = context.AllocateOutput(0, input.DataType, input.Shape);
        if (output.Length == 0)
        {
            return;
        }

        switch (input.DataType)
        {
            case DataType.Float32: Run<float>(input, output, outer, length, inner, context.Parallel); break;
            case DataType.Float64: Run<double>(input, output, outer, length, inner, context.Parallel); break;
            case DataType.Int32: Run<int>(input, output, outer, length, inner, context.Parallel); break;
            case DataType.Int64: Run<long>(input, output, outer, length, inner, context.Parallel); break;
            case DataType.UInt32: Run<uint>(input, output, outer, length, inner, context.Parallel); break;
            case DataType.UInt64: Run<ulong>(input, output, outer, length, inner, context.Parallel); break;
            case DataType.Float16 or DataType.BFloat16:
                var wide = Tensor.Allocate(DataType.Float32, input.Shape);
                Run<float>(HalfBridge.ToSingle(input), wide, outer, length, inner, context.Parallel);
                HalfBridge.FromSingle(wide, output);
                break;
            default:
                throw new KernelException($"CumSum does not support {DataTypes.Name(input.DataType)} tensors");
        }
    }

    private void Run<T>(Tensor input, Tensor output, int outer, int length, int inner, ParallelRunner parallel)
        where T : unmanaged, INumber<T>
    {
        long work = (long)outer * length * inner;
        int minChunk = parallel.Degree == 1 || work < ReduceLoops.ParallelThreshold
            ? outer
            : (int)Math.Clamp(ReduceLoops.ParallelThreshold / ((long)length * inner), 1, outer);
        parallel.ForRange(outer, minChunk, (start, end) => Rows(input.Span<T>(), output.Span<T>(), start, end, length, inner));
    }

    internal void Rows<T>(ReadOnlySpan<T> source, Span<T> destination, int o0, int o1, int length, int inner)
        where T : unmanaged, INumber<T>
    {
        int block = length * inner;
        int first = _reverse ? length - 1 : 0;
        int step = _reverse ? -1 : 1;
        for (int o = o0; o < o1; o++)
        {
            var x = source.Slice(o * block, block);
            var y = destination.Slice(o * block, block);
            if (inner == 1)
            {
                T acc = T.Zero;
                if (_exclusive)
                {
                    for (int n = 0, j = first; n < length; n++, j += step)
                    {
                        y[j] = acc;
                        acc += x[j];
                    }
                }
                else
                {
                    for (int n = 0, j = first; n < length; n++, j += step)
                    {
                        acc += x[j];
                        y[j] = acc;
                    }
                }

                continue;
            }

            if (_exclusive)
            {
                y.Slice(first * inner, inner).Clear();
            }
            else
            {
                x.Slice(first * inner, inner).CopyTo(y.Slice(first * inner, inner));
            }

            for (int n = 1, j = first + step; n < length; n++, j += step)
            {
                int previous = j - step;
                var addend = _exclusive ? x.Slice(previous * inner, inner) : x.Slice(j * inner, inner);
                TensorPrimitives.Add(y.Slice(previous * inner, inner), addend, y.Slice(j * inner, inner));
            }
        }
    }
}
