using Tessera.Kernels.Convolution;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// The convolution part shared by ConvInteger and QLinearConv: per image and group, output positions are the GEMM's
/// rows (unfolded by <see cref="QgemmConvRows"/>), the group's output channels its columns (W transposed, packed once
/// when W is constant), and the epilogue writes channels-first output directly.
/// </summary>
internal sealed unsafe class IntegerConv
{
    private readonly string _opType;
    private readonly ConvAttributes _attributes;
    private readonly Tensor? _constantW;
    private QgemmPackedB[]? _packedW;
    private ConvGeometry? _geometry;
    private int[] _lastX = [];
    private int[] _lastW = [];

    public IntegerConv(KernelInfo info, int weightIndex)
    {
        _opType = info.OpType;
        _attributes = new ConvAttributes(info);
        _constantW = info.ConstantInput(weightIndex);
        if (_constantW is { DataType: DataType.UInt8 or DataType.Int8, Rank: >= 3 } w && w.Shape[0] % _attributes.Group == 0)
        {
            _packedW = Pack(w);
        }
    }

    public long Group => _attributes.Group;

    /// <summary>Checks the operands and returns the geometry and output shape [N, M, spatial...].</summary>
    public (ConvGeometry Geometry, int[] OutputShape) Shape(Tensor x, Tensor w)
    {
        if (x.DataType is not (DataType.UInt8 or DataType.Int8) || w.DataType is not (DataType.UInt8 or DataType.Int8))
        {
            throw new KernelException($"{_opType} takes uint8 or int8 x and w, got {DataTypes.Name(x.DataType)} and {DataTypes.Name(w.DataType)}");
        }

        if (x.Rank < 3 || w.Rank != x.Rank)
        {
            throw new KernelException($"{_opType} needs x and w of equal rank >= 3, got {ShapeMath.Format(x.Shape)} and {ShapeMath.Format(w.Shape)}");
        }

        long group = _attributes.Group;
        if (x.Shape[1] != w.Shape[1] * group || w.Shape[0] % group != 0)
        {
            throw new KernelException($"{_opType} x {ShapeMath.Format(x.Shape)} and w {ShapeMath.Format(w.Shape)} do not agree for group {group}");
        }

        if (_geometry is null || !ShapeMath.SameShape(x.Shape, _lastX) || !ShapeMath.SameShape(w.Shape, _lastW))
        {
            _geometry = IntegerConvGeometry.Resolve(_attributes, _opType, x.Shape, w.Shape);
            (_lastX, _lastW) = (x.Shape.ToArray(), w.Shape.ToArray());
        }

        var output = new int[x.Rank];
        output[0] = x.Shape[0];
        output[1] = w.Shape[0];
        _geometry.Output.CopyTo(output, 2);
        return (_geometry, output);
    }

    /// <summary>
    /// Runs every image and group into <paramref name="output"/>'s Data (channels-first, elements of
    /// <paramref name="elementSize"/> bytes); the per-column arrays of <paramref name="output"/> run over all M channels.
    /// </summary>
    public void Run(Tensor x, Tensor w, ConvGeometry g, int xZeroPoint, QgemmOutput output, int elementSize, ParallelRunner parallel)
    {
        int group = (int)_attributes.Group;
        int channels = x.Shape[1] / group;
        int mg = w.Shape[0] / group;
        var packed = _packedW is not null && ReferenceEquals(w, _constantW) ? _packedW : Pack(w);
        bool signed = x.DataType == DataType.Int8;
        for (int n = 0; n < x.Shape[0]; n++)
        {
            for (int gi = 0; gi < group; gi++)
            {
                var rows = new QgemmConvRows(x.Pointer + ((((long)n * x.Shape[1]) + (gi * channels)) * g.InputSize), channels, g, xZeroPoint, signed);
                long first = (((long)n * w.Shape[0]) + (gi * mg)) * g.OutputSize;
                var part = output with
                {
                    Data = output.Data + (first * elementSize),
                    RowStride = 1,
                    ColStride = g.OutputSize,
                    ColumnBase = gi * mg,
                    ColumnSums = packed[gi].ColumnSums,
                    K = packed[gi].K,
                };
                Qgemm.Multiply(g.OutputSize, packed[gi], rows, part, parallel);
            }
        }

        GC.KeepAlive(x);
        GC.KeepAlive(w);
    }

    // Per group, B = W's rows of that group transposed: element (k, m) is W[m, k] with k over (channel, kernel...).
    private QgemmPackedB[] Pack(Tensor w)
    {
        int group = (int)_attributes.Group;
        int mg = w.Shape[0] / group;
        int k = w.Length / w.Shape[0];
        var packed = new QgemmPackedB[group];
        var config = QgemmConfig.ForWeights(w.Pointer, w.Length, w.DataType == DataType.Int8); // one for all groups
        for (int gi = 0; gi < group; gi++)
        {
            packed[gi] = QgemmPackedB.Pack(config, w.Pointer + ((long)gi * mg * k), k, mg, 1, k, w.DataType == DataType.Int8);
        }

        GC.KeepAlive(w);
        return packed;
    }
}
