using System.Buffers;
using System.Numerics;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Reduction;

/// <summary>
/// TopK: the k largest (or smallest, opset 11) values along an axis and their int64 indices, best first with
/// ties broken by lower index. k is an attribute in opset 1 and a one-element input from opset 10. Output is
/// always sorted, which `sorted = 0` permits.
/// </summary>
internal sealed class TopKKernel : IKernel
{
    private readonly long _axis;
    private readonly bool _largest;
    private readonly long? _attributeK;

    public TopKKernel(KernelInfo info)
    {
        _axis = info.GetInt("axis", -1);
        _largest = info.GetInt("largest", 1) != 0;
        _attributeK = info.OpsetVersion < 10 ? info.GetRequiredInt("k") : null;
    }

    public void Compute(KernelContext context)
    {
        var input = context.RequiredInput(0, "X");
        long k = _attributeK ?? IntegerInput.ReadScalar(context.RequiredInput(1, "K"), "TopK k");
        if (input.Rank == 0)
        {
            throw new KernelException("TopK needs an input of rank 1 or more");
        }

        int axis = IntegerInput.NormalizeAxis(_axis, input.Rank, "TopK");
        int length = input.Shape[axis];
        if (k < 0 || k > length)
        {
            throw new KernelException($"TopK k = {k} is outside [0, {length}] for axis {axis} of shape {ShapeMath.Format(input.Shape)}");
        }

        var outShape = (int[])input.Shape.Clone();
        outShape[axis] = (int)k;
        var values = context.AllocateOutput(0, input.DataType, outShape);
        var indices = context.AllocateOutput(1, DataType.Int64, outShape);
        if (values.Length == 0)
        {
            return;
        }

        int outer = ShapeMath.Product(input.Shape, 0, axis);
        int inner = ShapeMath.Product(input.Shape, axis + 1, input.Rank);
        var shape = new TopKShape(outer, length, inner, (int)k);
        if (HalfBridge.Applies(input.DataType))
        {
            var wide = Tensor.Allocate(DataType.Float32, outShape);
            Run<float>(HalfBridge.ToSingle(input), wide, indices, shape, context.Parallel);
            HalfBridge.FromSingle(wide, values);
            return;
        }

        switch (input.DataType)
        {
            case DataType.Float32: Run<float>(input, values, indices, shape, context.Parallel); break;
            case DataType.Float64: Run<double>(input, values, indices, shape, context.Parallel); break;
            case DataType.Int32: Run<int>(input, values, indices, shape, context.Parallel); break;
            case DataType.Int64: Run<long>(input, values, indices, shape, context.Parallel); break;
            case DataType.UInt32: Run<uint>(input, values, indices, shape, context.Parallel); break;
            case DataType.UInt64: Run<ulong>(input, values, indices, shape, context.Parallel); break;
            case DataType.Int16: Run<short>(input, values, indices, shape, context.Parallel); break;
            case DataType.UInt16: Run<ushort>(input, values, indices, shape, context.Parallel); break;
            case DataType.Int8: Run<sbyte>(input, values, indices, shape, context.Parallel); break;
            case DataType.UInt8: Run<byte>(input, values, indices, shape, context.Parallel); break;
            default:
                throw new KernelException($"TopK does not support {DataTypes.Name(input.DataType)} tensors");
        }
    }

    private void Run<T>(Tensor input, Tensor values, Tensor indices, TopKShape shape, ParallelRunner parallel)
        where T : unmanaged, INumber<T>
    {
        int rows = shape.Outer * shape.Inner;
        long work = (long)rows * shape.Length;
        int minChunk = parallel.Degree == 1 || work < ReduceLoops.ParallelThreshold
            ? rows
            : (int)Math.Clamp(ReduceLoops.ParallelThreshold / shape.Length, 1, rows);
        parallel.ForRange(rows, minChunk, (start, end) =>
        {
            var entries = ArrayPool<TopKEntry<T>>.Shared.Rent(shape.Length);
            try
            {
                Rows(input.Span<T>(), values.Span<T>(), indices.Span<long>(), start, end, shape, entries.AsSpan(0, shape.Length));
            }
            finally
            {
                ArrayPool<TopKEntry<T>>.Shared.Return(entries);
            }
        });
    }

    /// <summary>Selects for rows [r0, r1), a row being one (outer, inner) position.</summary>
    private void Rows<T>(ReadOnlySpan<T> source, Span<T> values, Span<long> indices, int r0, int r1, TopKShape shape,
        Span<TopKEntry<T>> entries)
        where T : unmanaged, INumber<T>
    {
        int n = shape.Length, inner = shape.Inner, k = shape.K;
        for (int r = r0; r < r1; r++)
        {
            int o = r / inner, c = r - o * inner;
            TopKSelector.Select(source, o * n * inner + c, n, inner, k, _largest, entries);
            int outBase = o * k * inner + c;
            for (int j = 0; j < k; j++)
            {
                values[outBase + j * inner] = entries[j].Value;
                indices[outBase + j * inner] = entries[j].Index;
            }
        }
    }
}
