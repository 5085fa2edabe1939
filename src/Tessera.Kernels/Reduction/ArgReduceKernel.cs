using System.Buffers;
using System.Numerics;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Reduction;

/// <summary>ArgMax/ArgMin: int64 indices along one axis, with keepdims and (opset 12+) select_last_index.</summary>
internal sealed class ArgReduceKernel : IKernel
{
    private readonly bool _isMax;
    private readonly string _opType;
    private readonly long _axis;
    private readonly bool _keepDims;
    private readonly bool _selectLast;

    public ArgReduceKernel(KernelInfo info, bool isMax)
    {
        _isMax = isMax;
        _opType = info.OpType;
        _axis = info.GetInt("axis", 0);
        _keepDims = info.GetInt("keepdims", 1) != 0;
        _selectLast = info.GetInt("select_last_index", 0) != 0;
    }

    public void Compute(KernelContext context)
    {
        var input = context.RequiredInput(0, "data");
        int rank = input.Rank;
        int axis = IntegerInput.NormalizeAxis(_axis, Math.Max(rank, 1), _opType);
        int[] shape = rank == 0 ? [1] : input.Shape;
        int outer = ShapeMath.Product(shape, 0, axis);
        int reduced = shape[axis];
        int inner = ShapeMath.Product(shape, axis + 1, shape.Length);

        int[] outShape;
        if (rank == 0)
        {
            outShape = [];
        }
        else if (_keepDims)
        {
            outShape = (int[])shape.Clone();
            outShape[axis] = 1;
        }
        else
        {
            outShape = [.. shape[..axis], .. shape[(axis + 1)..]];
        }

        var output = context.AllocateOutput(0, DataType.Int64, outShape);
        if (output.Length == 0)
        {
            return;
        }

        if (reduced == 0)
        {
            throw new KernelException($"{_opType} cannot reduce axis {axis} of size 0 in shape {ShapeMath.Format(input.Shape)}");
        }

        var data = HalfBridge.Applies(input.DataType) ? HalfBridge.ToSingle(input) : input;
        switch (data.DataType)
        {
            case DataType.Float32: Run<float>(data, output, outer, reduced, inner, context.Parallel); break;
            case DataType.Float64: Run<double>(data, output, outer, reduced, inner, context.Parallel); break;
            case DataType.Int32: Run<int>(data, output, outer, reduced, inner, context.Parallel); break;
            case DataType.Int64: Run<long>(data, output, outer, reduced, inner, context.Parallel); break;
            case DataType.UInt32: Run<uint>(data, output, outer, reduced, inner, context.Parallel); break;
            case DataType.UInt64: Run<ulong>(data, output, outer, reduced, inner, context.Parallel); break;
            case DataType.Int16: Run<short>(data, output, outer, reduced, inner, context.Parallel); break;
            case DataType.UInt16: Run<ushort>(data, output, outer, reduced, inner, context.Parallel); break;
            case DataType.Int8: Run<sbyte>(data, output, outer, reduced, inner, context.Parallel); break;
            case DataType.UInt8: Run<byte>(data, output, outer, reduced, inner, context.Parallel); break;
            default:
                throw new KernelException($"{_opType} does not support {DataTypes.Name(input.DataType)} tensors");
        }
    }

    private void Run<T>(Tensor input, Tensor output, int outer, int reduced, int inner, ParallelRunner parallel)
        where T : unmanaged, INumber<T>
    {
        long work = (long)outer * reduced * inner;
        int minChunk = (int)Math.Clamp(ReduceLoops.ParallelThreshold / ((long)reduced * inner), 1, outer);
        if (parallel.Degree == 1 || work < ReduceLoops.ParallelThreshold)
        {
            minChunk = outer;
        }

        parallel.ForRange(outer, minChunk, (start, end) =>
        {
            var best = ArrayPool<T>.Shared.Rent(inner);
            try
            {
                ArgLoops.Rows(input.Span<T>(), output.Span<long>(), start, end, reduced, inner, _isMax, _selectLast, best.AsSpan(0, inner));
            }
            finally
            {
                ArrayPool<T>.Shared.Return(best);
            }
        });
    }
}
