using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Indexing;

/// <summary>
/// Pad (opsets 1/2 attributes, 11 pads/constant_value inputs, 13, 18 axes, 19 wrap). Pads may be negative (crop).
/// Works row by row: each output row is a constant row or one contiguous copy of an input row plus its borders.
/// </summary>
internal sealed class PadKernel : IKernel
{
    private const int ParallelBytes = 1 << 16;

    private readonly PadMode _mode;
    private readonly long[]? _attributePads;
    private readonly double _attributeValue;

    public PadKernel(PadMode mode, long[]? attributePads, double attributeValue)
    {
        _mode = mode;
        _attributePads = attributePads;
        _attributeValue = attributeValue;
    }

    public void Compute(KernelContext context)
    {
        var data = context.RequiredInput(0, "data");
        int rank = data.Rank;
        long[] pads = ResolvePads(context, rank);
        Tensor constant;
        if (_attributePads is not null)
        {
            constant = ScalarValues.Make(data.DataType, _attributeValue);
        }
        else
        {
            var value = context.Input(2);
            if (value is not null && value.Length > 1)
            {
                throw new KernelException($"Pad constant_value must be a scalar, not shape {ShapeMath.Format(value.Shape)}");
            }

            if (value is not null && value.DataType != data.DataType)
            {
                throw new KernelException($"Pad constant_value type {DataTypes.Name(value.DataType)} differs from data type {DataTypes.Name(data.DataType)}");
            }

            constant = value is null || value.Length == 0 ? ScalarValues.Make(data.DataType, 0) : value;
        }

        var shape = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            long size = data.Shape[d] + pads[d] + pads[d + rank];
            if (size < 0 || size > int.MaxValue)
            {
                throw new KernelException($"Pad pads {pads[d]},{pads[d + rank]} give dimension {d} of {data.Shape[d]} an invalid size {size}");
            }

            if (size > 0 && data.Shape[d] == 0 && _mode != PadMode.Constant)
            {
                throw new KernelException($"Pad mode {_mode} cannot fill dimension {d} of an empty input");
            }

            shape[d] = (int)size;
        }

        var output = context.AllocateOutput(0, data.DataType, shape);
        if (output.Length == 0)
        {
            return;
        }

        if (rank == 0)
        {
            TensorElements.Copy(data, 0, output, 0, 1);
            return;
        }

        var job = new PadRows(data, output, pads, _mode, constant);
        int rows = output.Length / shape[^1];
        long bytes = (long)output.Length * Math.Max(1, output.ElementSize);
        if (bytes < ParallelBytes || context.Parallel.Degree == 1 || data.DataType == DataType.String)
        {
            job.Run(0, rows);
        }
        else
        {
            context.Parallel.ForRange(rows, Math.Max(1, (int)(ParallelBytes * (long)rows / bytes)), job.Run);
        }
    }

    /// <summary>Pads as [begin per dimension..., end per dimension...] for every dimension of the data.</summary>
    private long[] ResolvePads(KernelContext context, int rank)
    {
        long[] given;
        if (_attributePads is not null)
        {
            given = _attributePads;
        }
        else
        {
            var padsTensor = context.RequiredInput(1, "pads");
            IndexValues.RequireIndexType(padsTensor, "Pad pads");
            given = new long[padsTensor.Length];
            for (int i = 0; i < given.Length; i++)
            {
                given[i] = IndexValues.Read(padsTensor, i);
            }
        }

        var axesTensor = context.Input(3);
        if (axesTensor is null)
        {
            if (given.Length != 2 * rank)
            {
                throw new KernelException($"Pad needs {2 * rank} pads for rank {rank}, got {given.Length}");
            }

            return given;
        }

        IndexValues.RequireIndexType(axesTensor, "Pad axes");
        int count = axesTensor.Length;
        if (given.Length != 2 * count)
        {
            throw new KernelException($"Pad needs {2 * count} pads for {count} axes, got {given.Length}");
        }

        var pads = new long[2 * rank];
        for (int i = 0; i < count; i++)
        {
            int axis = IndexValues.Axis(IndexValues.Read(axesTensor, i), rank, "Pad");
            pads[axis] = given[i];
            pads[axis + rank] = given[i + count];
        }

        return pads;
    }
}
