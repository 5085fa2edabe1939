using System.Buffers;
using System.Numerics;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Reduction;

/// <summary>
/// Softmax/LogSoftmax. Before opset 13 the input is coerced to 2-D at `axis` (default 1) and each flattened
/// trailing block is normalised as one; from opset 13 the normalisation runs along the single `axis` (default -1).
/// </summary>
internal sealed class SoftmaxKernel : IKernel
{
    private readonly bool _log;
    private readonly string _opType;
    private readonly bool _coerce2D;
    private readonly long _axis;

    public SoftmaxKernel(KernelInfo info, bool log)
    {
        _log = log;
        _opType = info.OpType;
        _coerce2D = info.OpsetVersion < 13;
        _axis = info.GetInt("axis", _coerce2D ? 1 : -1);
    }

    public void Compute(KernelContext context)
    {
        var input = context.RequiredInput(0, "input");
        int rank = input.Rank;
        int[] shape = rank == 0 ? [1] : input.Shape;
        int axis;
        if (_coerce2D)
        {
            // Opsets 1-12 accept axis == rank (an empty trailing block of size 1).
            long a = _axis < 0 ? _axis + shape.Length : _axis;
            if (a < 0 || a > shape.Length)
            {
                throw new KernelException($"{_opType}: axis {_axis} is out of range for rank {rank}");
            }

            axis = (int)a;
        }
        else
        {
            axis = IntegerInput.NormalizeAxis(_axis, shape.Length, _opType);
        }

        int outer = ShapeMath.Product(shape, 0, axis);
        int reduced = _coerce2D ? ShapeMath.Product(shape, axis, shape.Length) : shape[axis];
        int inner = _coerce2D ? 1 : ShapeMath.Product(shape, axis + 1, shape.Length);

        var output = context.AllocateOutput(0, input.DataType, input.Shape);
        if (output.Length == 0)
        {
            return;
        }

        switch (input.DataType)
        {
            case DataType.Float32: Run<float>(input, output, outer, reduced, inner, context.Parallel); break;
            case DataType.Float64: Run<double>(input, output, outer, reduced, inner, context.Parallel); break;
            case DataType.Float16 or DataType.BFloat16:
                var wide = Tensor.Allocate(DataType.Float32, input.Shape);
                Run<float>(HalfBridge.ToSingle(input), wide, outer, reduced, inner, context.Parallel);
                HalfBridge.FromSingle(wide, output);
                break;
            default:
                throw new KernelException($"{_opType} does not support {DataTypes.Name(input.DataType)} tensors");
        }
    }

    private void Run<T>(Tensor input, Tensor output, int outer, int reduced, int inner, ParallelRunner parallel)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long work = (long)outer * reduced * inner;
        if (parallel.Degree == 1 || work < ReduceLoops.ParallelThreshold)
        {
            Slice<T>(input, output, 0, outer, reduced, inner, 0, inner);
        }
        else if (outer >= 2 * parallel.Degree || inner < 64)
        {
            int minChunk = (int)Math.Clamp(ReduceLoops.ParallelThreshold / ((long)reduced * inner), 1, outer);
            var body = new Body<T>(this, input, output, outer, reduced, inner, true);
            parallel.ForRange(outer, minChunk, ref body);
        }
        else
        {
            int minChunk = (int)Math.Clamp(ReduceLoops.ParallelThreshold / ((long)reduced * outer), 16, inner);
            var body = new Body<T>(this, input, output, outer, reduced, inner, false);
            parallel.ForRange(inner, minChunk, ref body);
        }
    }

    private void Slice<T>(Tensor input, Tensor output, int o0, int o1, int reduced, int inner, int c0, int c1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int scratchLength = inner == 1 ? 0 : 2 * (c1 - c0);
        var scratch = scratchLength == 0 ? null : ArrayPool<T>.Shared.Rent(scratchLength);
        try
        {
            SoftmaxLoops.Rows(input.Span<T>(), output.Span<T>(), o0, o1, reduced, inner, c0, c1, _log, scratch.AsSpan(0, scratchLength));
        }
        finally
        {
            if (scratch is not null)
            {
                ArrayPool<T>.Shared.Return(scratch);
            }
        }
    }

    private readonly struct Body<T>(SoftmaxKernel kernel, Tensor input, Tensor output, int outer, int reduced, int inner, bool byOuter) : IRangeBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Invoke(int start, int end)
        {
            if (byOuter)
            {
                kernel.Slice<T>(input, output, start, end, reduced, inner, 0, inner);
            }
            else
            {
                kernel.Slice<T>(input, output, 0, outer, reduced, inner, start, end);
            }
        }
    }
}
