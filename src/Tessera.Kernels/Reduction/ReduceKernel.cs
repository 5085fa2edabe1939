using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Reduction;

/// <summary>
/// ReduceSum/Mean/Max/Min/Prod/SumSquare/L2. Axes come from the attribute, or from input 1 where the opset
/// made it an input (ReduceSum 13, the others 18); empty axes reduce everything unless noop_with_empty_axes.
/// </summary>
internal sealed class ReduceKernel : IKernel
{
    private readonly ReduceKind _kind;
    private readonly string _opType;
    private readonly bool _keepDims;
    private readonly bool _noopWithEmptyAxes;
    private readonly bool _axesFromInput;
    private readonly long[]? _attributeAxes;

    public ReduceKernel(KernelInfo info, ReduceKind kind)
    {
        _kind = kind;
        _opType = info.OpType;
        _keepDims = info.GetInt("keepdims", 1) != 0;
        _noopWithEmptyAxes = info.GetInt("noop_with_empty_axes", 0) != 0;
        _axesFromInput = info.OpsetVersion >= (kind == ReduceKind.Sum ? 13 : 18);
        _attributeAxes = _axesFromInput ? null : info.GetInts("axes");
    }

    private ReducePlan? _plan;
    private long[] _planAxes = [];
    private int[] _planShape = [];
    private int[] _outputShape = [];

    public void Compute(KernelContext context)
    {
        var input = context.RequiredInput(0, "data");
        ReadOnlySpan<long> axes = _axesFromInput
            ? (context.Input(1) is { } axesTensor ? ReadAxes(axesTensor) : [])
            : _attributeAxes ?? [];

        if (axes.Length == 0 && _noopWithEmptyAxes)
        {
            context.SetOutput(0, input);
            return;
        }

        // The plan and output shape depend only on the input shape and the axes: reuse them while those repeat.
        if (_plan is null || !axes.SequenceEqual(_planAxes) || !input.Shape.AsSpan().SequenceEqual(_planShape))
        {
            int rank = input.Rank;
            var reduced = new bool[rank];
            if (axes.Length == 0)
            {
                Array.Fill(reduced, true);
            }

            foreach (long axis in axes)
            {
                reduced[IntegerInput.NormalizeAxis(axis, rank, _opType)] = true;
            }

            _outputShape = OutputShape(input.Shape, reduced);
            _plan = ReducePlan.Create(input.Shape, reduced);
            _planAxes = axes.ToArray();
            _planShape = (int[])input.Shape.Clone();
        }

        var plan = _plan;
        var output = context.AllocateOutput(0, input.DataType, _outputShape);
        if (HalfBridge.Applies(input.DataType))
        {
            var wide = Tensor.Allocate(DataType.Float32, output.Shape);
            ReduceExecutor.Run<float>(_kind, plan, HalfBridge.ToSingle(input), wide, context.Parallel);
            HalfBridge.FromSingle(wide, output);
            return;
        }

        Dispatch(plan, input, output, context.Parallel);
    }

    private void Dispatch(ReducePlan plan, Tensor input, Tensor output, ParallelRunner parallel)
    {
        switch (input.DataType)
        {
            case DataType.Float32: ReduceExecutor.Run<float>(_kind, plan, input, output, parallel); break;
            case DataType.Float64: ReduceExecutor.Run<double>(_kind, plan, input, output, parallel); break;
            case DataType.Int32: ReduceExecutor.Run<int>(_kind, plan, input, output, parallel); break;
            case DataType.Int64: ReduceExecutor.Run<long>(_kind, plan, input, output, parallel); break;
            case DataType.UInt32: ReduceExecutor.Run<uint>(_kind, plan, input, output, parallel); break;
            case DataType.UInt64: ReduceExecutor.Run<ulong>(_kind, plan, input, output, parallel); break;
            case DataType.Int16: ReduceExecutor.Run<short>(_kind, plan, input, output, parallel); break;
            case DataType.UInt16: ReduceExecutor.Run<ushort>(_kind, plan, input, output, parallel); break;
            case DataType.Int8: ReduceExecutor.Run<sbyte>(_kind, plan, input, output, parallel); break;
            case DataType.UInt8: ReduceExecutor.Run<byte>(_kind, plan, input, output, parallel); break;
            default:
                throw new KernelException($"{_opType} does not support {DataTypes.Name(input.DataType)} tensors");
        }
    }

    // int64 axes are read in place; int32 ones are widened into a new array.
    private ReadOnlySpan<long> ReadAxes(Tensor axes)
    {
        if (axes.DataType == DataType.Int64 && axes.Rank <= 1)
        {
            return axes.Span<long>();
        }

        return IntegerInput.ReadAll(axes, $"{_opType} axes");
    }

    private int[] OutputShape(int[] shape, bool[] reduced)
    {
        var dims = new List<int>(shape.Length);
        for (int i = 0; i < shape.Length; i++)
        {
            if (!reduced[i])
            {
                dims.Add(shape[i]);
            }
            else if (_keepDims)
            {
                dims.Add(1);
            }
        }

        return [.. dims];
    }
}
