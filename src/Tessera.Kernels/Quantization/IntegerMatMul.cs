using Tessera.Kernels.Core;
using Tessera.Kernels.Linear;
using Tessera.Tensors;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// The matrix-product part shared by MatMulInteger, QLinearMatMul and the fused quantized products: numpy batch
/// rules, a constant 2-D B packed once at creation (any other B packed again by every computation into buffers kept
/// from the first, all batches at once), and the integer GEMM with the caller's epilogue for each batch.
/// </summary>
internal sealed unsafe class IntegerMatMul
{
    private static readonly int[] s_firstOffset = [0];
    private readonly string _opType;
    private readonly Tensor? _constantB;
    private readonly QgemmPackedB? _packedB;
    private readonly QgemmPackedBatches _activationB = new();
    private MatMulShape? _shape;

    public IntegerMatMul(string opType, Tensor? constantB)
    {
        _opType = opType;
        _constantB = constantB;
        if (constantB is { Rank: 2, DataType: DataType.UInt8 or DataType.Int8 } b)
        {
            _packedB = QgemmPackedB.Pack(QgemmConfig.ForWeights(b.Pointer, b.Length, b.DataType == DataType.Int8), b.Pointer, b.Shape[0], b.Shape[1], b.Shape[1], 1, b.DataType == DataType.Int8);
        }
    }

    public MatMulShape Shape(Tensor a, Tensor b)
    {
        if (a.DataType is not (DataType.UInt8 or DataType.Int8) || b.DataType is not (DataType.UInt8 or DataType.Int8))
        {
            throw new KernelException($"{_opType} takes uint8 or int8 matrices, got {DataTypes.Name(a.DataType)} and {DataTypes.Name(b.DataType)}");
        }

        return _shape is not null && _shape.Matches(a.Shape, b.Shape) ? _shape : _shape = MatMulShape.Create(a.Shape, b.Shape);
    }

    /// <summary>B's zero points (scalar or one per column) moved by B's packing shift, one per column.</summary>
    public static int[] BZeroPoints(Tensor b, Tensor? zeroPoint, int n, string opType)
    {
        if (zeroPoint is not null && zeroPoint.DataType != b.DataType)
        {
            throw new KernelException($"{opType} B is {DataTypes.Name(b.DataType)} but its zero point is {DataTypes.Name(zeroPoint.DataType)}");
        }

        int[] values = zeroPoint is null ? [0] : QuantValues.Ints(zeroPoint, opType + " B zero point");
        var shifted = QuantValues.PerColumn(values, n, opType + " B zero point").ToArray();
        int shift = QgemmPackedB.Shift(b.DataType == DataType.Int8);
        for (int i = 0; i < shifted.Length; i++) shifted[i] += shift;
        return shifted;
    }

    /// <summary>A's per-tensor zero point moved by A's packing shift.</summary>
    public static int AZeroPoint(Tensor a, Tensor? zeroPoint, string opType)
    {
        if (zeroPoint is not null && zeroPoint.DataType != a.DataType)
        {
            throw new KernelException($"{opType} A is {DataTypes.Name(a.DataType)} but its zero point is {DataTypes.Name(zeroPoint.DataType)}");
        }

        return QuantValues.Scalar(zeroPoint, opType + " A zero point (per-row zero points are not supported)")
            + QgemmMatrixRows.Shift(a.DataType == DataType.Int8);
    }

    /// <summary>
    /// Computes every batch: <paramref name="output"/> describes the first batch's output (row stride N, column stride 1)
    /// with its zero points and conversion; <paramref name="outputElementSize"/> steps it from batch to batch.
    /// </summary>
    public void Run(Tensor a, Tensor b, MatMulShape s, QgemmOutput output, int outputElementSize, ParallelRunner parallel)
    {
        int m = s.M, n = s.N, k = s.K;
        var rows = new QgemmMatrixRows(a.Pointer, k, k, a.DataType == DataType.Int8);
        bool signedB = b.DataType == DataType.Int8;
        if (s.FoldsIntoRows)
        {
            // One B for every batch: packed once (at creation when constant), the batches' rows one tall A.
            var packed = _packedB is not null && ReferenceEquals(b, _constantB) ? _packedB
                : _activationB.Pack(b.Pointer + s.BOffsets[0], s_firstOffset, 1, k, n, signedB, parallel)[0];
            Qgemm.Multiply(s.BatchCount * m, packed, rows, output with { ColumnSums = packed.ColumnSums, K = k }, parallel);
            return;
        }

        var batches = _activationB.Pack(b.Pointer, s.BOffsets, s.BatchCount, k, n, signedB, parallel);
        Qgemm.MultiplyBatches(m, batches, s.AOffsets, rows, output with { K = k }, (long)m * n * outputElementSize, parallel);
    }
}
