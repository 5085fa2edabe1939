using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Tessera.Kernels.Fused;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// The epilogue of the integer GEMM: removes the zero points from each tile's raw sums and writes the result where
/// the caller wants it. With A and B shifted to u8 and s8, Σ(a - za)(b - zb) = Σab - zb·Σa - za·Σb + K·za·zb, where
/// Σa is the row's sum (from packing A) and Σb the column's (from packing B). Element (m, n) goes to
/// Data + m·RowStride + n·ColStride elements, so a convolution writes its channels-first output directly.
/// </summary>
internal readonly unsafe struct QgemmOutput
{
    public QgemmOutputKind Kind { get; init; }

    public byte* Data { get; init; }

    public nint RowStride { get; init; }

    public nint ColStride { get; init; }

    /// <summary>A's zero point after A's shift (per tensor).</summary>
    public int AZero { get; init; }

    /// <summary>Where this product's columns start in the per-column arrays below (a convolution group's first channel).</summary>
    public int ColumnBase { get; init; }

    /// <summary>B's zero points after B's shift, per column (from <see cref="ColumnBase"/>).</summary>
    public int[] BZero { get; init; }

    /// <summary>Per column of this product's B (not offset by <see cref="ColumnBase"/>): its packing's column sums.</summary>
    public int[] ColumnSums { get; init; }

    public int K { get; init; }

    /// <summary>Per column: the requantization multiplier (Requantize) or the dequantization scale (Float).</summary>
    public float[]? Scale { get; init; }

    /// <summary>Per column, added to the sum before requantizing; may be null.</summary>
    public int[]? IntBias { get; init; }

    /// <summary>Per column, added after dequantizing; may be null.</summary>
    public float[]? FloatBias { get; init; }

    /// <summary>
    /// Float output only: a tensor of the output's shape and strides (a residual branch) added to each element after
    /// the bias and before <see cref="Activation"/>; null for none.
    /// </summary>
    public float* Sum { get; init; }

    /// <summary>
    /// Float output only: the product's columns in parts of <see cref="PartColumns"/> (a multiple of the tile width),
    /// part i a row-major tensor of its own at PartData[i] (one product over the weights of several that read the same
    /// input, e.g. attention's Q, K and V); <see cref="Data"/> and <see cref="RowStride"/> are then unused. Null for one
    /// output.
    /// </summary>
    public nint[]? PartData { get; init; }

    public int PartColumns { get; init; }

    public int YZero { get; init; }

    public int YMin { get; init; }

    public int YMax { get; init; }

    /// <summary>
    /// Float output with unit column stride only: applied in place to each finished row (N values) by
    /// <see cref="Qgemm"/>, one row at a time so a row's bits depend neither on the work split nor on the thread count;
    /// null for none.
    /// </summary>
    public FusedActivation? Activation { get; init; }

    /// <summary>
    /// The product's whole panels' float epilogues set beforehand (<see cref="QgemmFloatPanels"/>), indexed by panel, or
    /// null for each block to set its own.
    /// </summary>
    public QgemmFloatPanel* Panels { get; init; }

    public void Store(int* tile, int row, int rows, int col, int cols, int* rowSums)
    {
        if (cols == QgemmConfig.Nr && Vector256.IsHardwareAccelerated)
        {
            StoreFullTile(tile, row, rows, col, rowSums);
            return;
        }

        if (PartData is not null)
        {
            // The tile's part as an output of its own, addressed so that global column indexes land in it (the
            // per-column arrays stay indexed by the whole product's columns): only without 256-bit vectors, as a
            // copy of this struct per tile was 2% of an int8 BERT inference (perf).
            int part = col / PartColumns;
            var output = this with { PartData = null, Data = (byte*)(PartData[part] - ((nint)part * PartColumns * sizeof(float))), RowStride = PartColumns };
            output.Store(tile, row, rows, col, cols, rowSums);
            return;
        }

        int azk = AZero * K;
        for (int r = 0; r < rows; r++)
        {
            int* t = tile + (r * QgemmConfig.Nr);
            int rowSum = rowSums[r];
            nint rowOffset = (row + r) * RowStride;
            for (int c = 0; c < cols; c++)
            {
                int n = col + c;
                int j = ColumnBase + n;
                int zb = BZero[j];
                int v = t[c] - (zb * rowSum) - (AZero * ColumnSums[n]) + (azk * zb);
                Write(rowOffset + (n * ColStride), v, j);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Write(nint at, int v, int j)
    {
        switch (Kind)
        {
            case QgemmOutputKind.Int32:
                ((int*)Data)[at] = v;
                break;
            case QgemmOutputKind.Requantize:
                if (IntBias is not null) v += IntBias[j];
                float q = MathF.Round(v * Scale![j]) + YZero;
                Data[at] = (byte)(int)Math.Clamp(q, YMin, YMax);
                break;
            default:
                float f = v * Scale![j];
                if (FloatBias is not null) f += FloatBias[j];
                ((float*)Data)[at] = Sum is null ? f : f + Sum[at];
                break;
        }
    }

    /// <summary>Whether whole 16-column panels can go through <see cref="QgemmFloatPanel"/> (float output, column stride 1).</summary>
    public bool HasFloatPanels => Kind == QgemmOutputKind.Float && ColStride == 1 && Vector256.IsHardwareAccelerated;

    // A whole Mr x 16 tile: the column terms are loaded once, each row corrected and converted 8 lanes at a time.
    private void StoreFullTile(int* tile, int row, int rows, int col, int* rowSums)
    {
        if (HasFloatPanels)
        {
            QgemmFloatPanel panel = default;
            panel.Set(this, col);
            panel.StoreTile(tile, row, rows, rowSums);
            return;
        }

        int j = ColumnBase + col;
        fixed (int* zb = &BZero[j])
        fixed (int* sums = &ColumnSums[col])
        {
            var azk = Vector256.Create(AZero * K);
            var az = Vector256.Create(AZero);
            var zb0 = Vector256.Load(zb);
            var zb1 = Vector256.Load(zb + 8);
            var term0 = (azk * zb0) - (az * Vector256.Load(sums));
            var term1 = (azk * zb1) - (az * Vector256.Load(sums + 8));
            var values = stackalloc int[QgemmConfig.Nr];
            for (int r = 0; r < rows; r++)
            {
                int* t = tile + (r * QgemmConfig.Nr);
                var rowSum = Vector256.Create(rowSums[r]);
                var v0 = Vector256.Load(t) - (zb0 * rowSum) + term0;
                var v1 = Vector256.Load(t + 8) - (zb1 * rowSum) + term1;
                nint rowOffset = (row + r) * RowStride;
                v0.Store(values);
                v1.Store(values + 8);
                for (int c = 0; c < QgemmConfig.Nr; c++) Write(rowOffset + ((col + c) * ColStride), values[c], j + c);
            }
        }
    }
}
