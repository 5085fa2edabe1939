using Tessera.Kernels.Core;
using Tessera.Kernels.Linear;
using Tessera.Tensors;

namespace Tessera.Kernels.Convolution;

/// <summary>
/// ConvTranspose (1-D, 2-D, 3-D, grouped): per image and group, col = W^T * X on the packed SGEMM, then col2im adds
/// each tap's contribution into the output. Output size from output_shape (pads derived), auto_pad SAME_* (output =
/// input * stride) or explicit pads and output_padding. Constant weights are packed per group at creation.
/// </summary>
internal sealed unsafe class ConvTransposeKernel : IKernel
{
    private const long ColumnBudget = 1L << 21;
    private const long SmallGemm = 1L << 21;

    private readonly ConvAttributes _attributes;
    private readonly Tensor? _constantW;
    private readonly SgemmPackedA[]? _packedW;

    // The geometry of the last call's shapes: recomputed only when they change.
    private int[] _lastX = [];
    private int[] _lastW = [];
    private ConvGeometry? _geometry;
    private int[] _outputShape = [];

    public ConvTransposeKernel(KernelInfo info)
    {
        _attributes = new ConvAttributes(info);
        _constantW = info.ConstantInput(1);
        if (_constantW is { DataType: DataType.Float32 } w && w.Rank >= 3 && w.Length > 0 && w.Shape[0] % _attributes.Group == 0)
        {
            int group = (int)_attributes.Group;
            int cg = w.Shape[0] / group;
            int rowsK = w.Length / w.Shape[0];
            _packedW = new SgemmPackedA[group];
            for (int g = 0; g < group; g++)
            {
                _packedW[g] = SgemmPackedA.Pack((float*)w.Pointer + (long)g * cg * rowsK, rowsK, true, rowsK, cg, 1f);
            }
        }
    }

    public void Compute(KernelContext context)
    {
        var x = context.RequiredInput(0, "X");
        var w = context.RequiredInput(1, "W");
        var bias = context.Input(2);
        if (x.Rank < 3 || w.Rank != x.Rank)
        {
            throw new KernelException($"ConvTranspose needs X of rank >= 3 and W of the same rank, got {ShapeMath.Format(x.Shape)} and {ShapeMath.Format(w.Shape)}");
        }

        if (w.DataType != x.DataType || (bias is not null && bias.DataType != x.DataType))
        {
            throw new KernelException("ConvTranspose inputs must share one element type");
        }

        int group = (int)_attributes.Group;
        int n = x.Shape[0], c = x.Shape[1], m = w.Shape[1] * group;
        if (w.Shape[0] != c || c % group != 0)
        {
            throw new KernelException($"ConvTranspose with group {group}: X {ShapeMath.Format(x.Shape)} and W {ShapeMath.Format(w.Shape)} do not fit");
        }

        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != m))
        {
            throw new KernelException($"ConvTranspose bias of shape {ShapeMath.Format(bias.Shape)} does not match {m} output channels");
        }

        var geometry = Geometry(x.Shape, w.Shape, m);
        var y = context.AllocateOutput(0, x.DataType, _outputShape);
        if (y.Length == 0)
        {
            return;
        }

        if (x.DataType == DataType.Float32)
        {
            Run(x, w, bias, y, geometry, context.Parallel);
        }
        else if (FloatStaging.IsStaged(x.DataType))
        {
            var wide = Tensor.Allocate(DataType.Float32, y.Shape);
            Run(FloatStaging.Widen(x)!, FloatStaging.Widen(w)!, FloatStaging.Widen(bias), wide, geometry, context.Parallel);
            FloatStaging.Narrow(wide, y);
        }
        else
        {
            throw new KernelException($"ConvTranspose does not support {DataTypes.Name(x.DataType)}");
        }
    }

    private ConvGeometry Geometry(int[] xShape, int[] wShape, int m)
    {
        if (_geometry is not null && ShapeMath.SameShape(xShape, _lastX) && ShapeMath.SameShape(wShape, _lastW))
        {
            return _geometry;
        }

        var geometry = Resolve(xShape, wShape);
        var outputShape = new int[xShape.Length];
        outputShape[0] = xShape[0];
        outputShape[1] = m;
        geometry.Output.CopyTo(outputShape, 2);
        (_lastX, _lastW, _geometry, _outputShape) = (xShape.ToArray(), wShape.ToArray(), geometry, outputShape);
        return geometry;
    }

    private ConvGeometry Resolve(int[] xShape, int[] wShape)
    {
        int rank = xShape.Length - 2;
        var kernel = _attributes.ResolveKernel(wShape, rank);
        var strides = _attributes.PerAxis(_attributes.Strides, "strides", rank, 1, 1);
        var dilations = _attributes.PerAxis(_attributes.Dilations, "dilations", rank, 1, 1);
        var outputPadding = _attributes.PerAxis(_attributes.OutputPadding, "output_padding", rank, 0, 0);
        var (begin, end) = _attributes.AutoPad == "NOTSET" ? _attributes.ExplicitPads(rank) : (new int[rank], new int[rank]);
        long[]? requested = _attributes.OutputShape is { Length: > 0 } shape ? shape : null;
        if (requested is not null && requested.Length < rank)
        {
            throw new KernelException($"ConvTranspose output_shape has {requested.Length} values for {rank} spatial axes");
        }

        bool same = _attributes.AutoPad is "SAME_UPPER" or "SAME_LOWER";
        var output = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            int input = xShape[d + 2];
            long natural = (long)strides[d] * (input - 1) + outputPadding[d] + (long)(kernel[d] - 1) * dilations[d] + 1;
            if (requested is not null || same)
            {
                long target = requested is not null ? requested[requested.Length - rank + d] : (long)input * strides[d];
                long total = natural - target;

                // Floor division, as the ONNX reference does: a negative total (output_shape beyond the natural
                // size) extends the end, not the start.
                long half = total >= 0 ? total / 2 : -((1 - total) / 2);
                begin[d] = (int)(_attributes.AutoPad == "SAME_UPPER" ? half : total - half);
                end[d] = (int)(total - begin[d]);
                output[d] = checked((int)target);
            }
            else
            {
                long size = natural - begin[d] - end[d];
                if (size < 0)
                {
                    throw new KernelException($"ConvTranspose pads exceed the output extent on axis {d}");
                }

                output[d] = (int)size;
            }
        }

        return new ConvGeometry(xShape[2..], kernel, strides, dilations, begin, end, output);
    }

    private void Run(Tensor x, Tensor w, Tensor? bias, Tensor y, ConvGeometry g, ParallelRunner parallel)
    {
        int group = (int)_attributes.Group;
        int n = x.Shape[0], c = x.Shape[1];
        int cg = c / group, mg = w.Shape[1];
        float* px = (float*)x.Pointer, pw = (float*)w.Pointer, py = (float*)y.Pointer;
        float* pb = bias is null ? null : (float*)bias.Pointer;
        var packed = _packedW is not null && ReferenceEquals(w, _constantW) ? _packedW : null;
        int rowsK = mg * g.KernelSize;
        int items = n * group;
        if (items >= parallel.Degree && parallel.Degree > 1 && (long)rowsK * cg * g.InputSize < SmallGemm)
        {
            var body = new ItemBody(px, pw, pb, py, packed, c, cg, mg, rowsK, group, g);
            parallel.ForRange(items, 1, ref body);
            return;
        }

        for (int i = 0; i < items; i++)
        {
            Item(i, px, pw, pb, py, packed, c, cg, mg, rowsK, group, g, parallel);
        }
    }

    private static void Item(int item, float* px, float* pw, float* pb, float* py, SgemmPackedA[]? packed, int c, int cg,
        int mg, int rowsK, int group, ConvGeometry g, ParallelRunner parallel)
    {
        int image = item / group, gi = item % group;
        int m = mg * group;
        float* xg = px + ((long)image * c + (long)gi * cg) * g.InputSize;
        float* yg = py + ((long)image * m + (long)gi * mg) * g.OutputSize;
        float* wg = pw + (long)gi * cg * rowsK;
        for (int j = 0; j < mg; j++)
        {
            new Span<float>(yg + (long)j * g.OutputSize, g.OutputSize).Fill(pb is null ? 0f : pb[gi * mg + j]);
        }

        if (g.IsPointwise && g.Input.AsSpan().SequenceEqual(g.Output))
        {
            Gemm(packed?[gi], wg, rowsK, cg, xg, g.InputSize, g.InputSize, 1f, yg, parallel);
            return;
        }

        int inLast = g.Input[^1];
        int outer = g.InputSize / inLast;
        int band = (int)Math.Clamp(ColumnBudget / Math.Max(1L, (long)rowsK * inLast), 1, outer);
        float* col = ConvScratch.Get((long)rowsK * band * inLast);
        for (int o0 = 0; o0 < outer; o0 += band)
        {
            int o1 = Math.Min(outer, o0 + band);
            int width = (o1 - o0) * inLast;
            Gemm(packed?[gi], wg, rowsK, cg, xg + (long)o0 * inLast, width, g.InputSize, 0f, col, parallel);
            Col2Im.Accumulate(col, mg, g, o0, o1, yg, parallel);
        }
    }

    /// <summary>c[rowsK x n] (+)= Wg^T (rowsK x cg) * X block (cg x n, row stride ldx).</summary>
    private static void Gemm(SgemmPackedA? packed, float* wg, int rowsK, int cg, float* x, int n, int ldx, float beta, float* c,
        ParallelRunner parallel)
    {
        if (packed is not null)
        {
            Sgemm.Multiply(packed, false, n, x, ldx, beta, c, n, parallel);
        }
        else
        {
            Sgemm.Multiply(true, false, rowsK, n, cg, 1f, wg, rowsK, x, ldx, beta, c, n, parallel);
        }
    }

    /// <summary>Whole (image, group) items per thread, each on a sequential SGEMM.</summary>
    private readonly struct ItemBody(float* px, float* pw, float* pb, float* py, SgemmPackedA[]? packed, int c, int cg, int mg,
        int rowsK, int group, ConvGeometry g) : IRangeBody
    {
        public void Invoke(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                Item(i, px, pw, pb, py, packed, c, cg, mg, rowsK, group, g, ParallelRunner.Sequential);
            }
        }
    }
}
