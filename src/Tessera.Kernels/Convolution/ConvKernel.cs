using Tessera.Kernels.Core;
using Tessera.Kernels.Fused;
using Tessera.Kernels.Linear;
using Tessera.Tensors;

namespace Tessera.Kernels.Convolution;

/// <summary>
/// Conv (1-D, 2-D, 3-D, grouped): per image and group, Y = W * im2col(X) on the packed SGEMM, where 1x1 unit-stride
/// convolutions multiply X directly, depthwise 2-D convolutions run a direct SIMD loop and other 2-D convolutions with
/// constant weights run <see cref="DirectConv2D"/> (no im2col) with AVX-512 or AVX2, or with AVX-512 and 64-channel
/// multiples <see cref="ChannelBlockedConv"/> where its pixel tiles skip enough padding. Constant weights are packed
/// per group when the kernel is created. float16, bfloat16 and float64 are staged through float32. FusedConv (domain
/// com.tessera) adds an activation and an optional fourth input "sum" (shaped like Y, e.g. a residual branch):
/// Y = act(conv + bias + sum); bias and activation are applied to each output tile as the SGEMM finishes it. Operands
/// the graph keeps channel-blocked (attributes x_blocked, sum_blocked, y_blocked: <see cref="ChannelBlockedLayout"/>) go
/// to <see cref="ChannelBlockedConv"/> as they are, or through NCHW scratch copies to any other path.
/// </summary>
internal sealed unsafe class ConvKernel : IKernel
{
    // Largest im2col block in floats; bigger outputs are lowered a band of rows at a time.
    private const long ColumnBudget = 1L << 21;

    // Images/groups whose GEMM is below this many multiply-adds run one per thread instead of splitting each GEMM.
    private const long SmallGemm = 1L << 21;

    private readonly ConvAttributes _attributes;
    private readonly Tensor? _constantW;
    private readonly SgemmPackedA[]? _packedW;
    private readonly FusedActivation _activation;

    // Operands the graph keeps channel-blocked for this node (FusedConv attributes set by the channel-block-layout pass).
    private readonly BlockedOperands _blocked;
    private readonly DirectConv2D _direct = new();

    // The constant weights repacked as 64-channel blocks, on the first call that takes that path.
    private ChannelBlockedConv? _channelBlocked;

    // The geometry of the last call's shapes: recomputed only when they change.
    private int[] _lastX = [];
    private int[] _lastW = [];
    private ConvGeometry? _geometry;
    private int[] _outputShape = [];

    public ConvKernel(KernelInfo info)
    {
        _activation = info.Domain == TesseraDomain.Name ? FusedActivation.FromAttributes(info) : FusedActivation.None;
        _blocked = info.Domain != TesseraDomain.Name ? BlockedOperands.None
            : (info.GetInt("x_blocked", 0) != 0 ? BlockedOperands.X : 0) | (info.GetInt("sum_blocked", 0) != 0 ? BlockedOperands.Sum : 0)
            | (info.GetInt("y_blocked", 0) != 0 ? BlockedOperands.Y : 0);
        _attributes = new ConvAttributes(info);
        _constantW = info.ConstantInput(1);
        if (_constantW is { DataType: DataType.Float32 } w && w.Rank >= 3 && w.Length > 0 && _attributes.Group <= w.Shape[0]
            && w.Shape[0] % _attributes.Group == 0 && !(w.Rank == 4 && w.Shape[1] == 1 && w.Shape[0] == _attributes.Group))
        {
            int group = (int)_attributes.Group;
            int mg = w.Shape[0] / group;
            int rowsK = w.Length / w.Shape[0];
            _packedW = new SgemmPackedA[group];
            for (int g = 0; g < group; g++)
            {
                _packedW[g] = SgemmPackedA.Pack((float*)w.Pointer + (long)g * mg * rowsK, rowsK, false, mg, rowsK, 1f);
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
            throw new KernelException($"Conv needs X of rank >= 3 and W of the same rank, got {ShapeMath.Format(x.Shape)} and {ShapeMath.Format(w.Shape)}");
        }

        if (w.DataType != x.DataType || (bias is not null && bias.DataType != x.DataType))
        {
            throw new KernelException("Conv inputs must share one element type");
        }

        int group = (int)_attributes.Group;
        int n = x.Shape[0], c = x.Shape[1], m = w.Shape[0];
        if (w.Shape[1] * group != c || m % group != 0)
        {
            throw new KernelException($"Conv with group {group}: X {ShapeMath.Format(x.Shape)} and W {ShapeMath.Format(w.Shape)} do not fit");
        }

        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != m))
        {
            throw new KernelException($"Conv bias of shape {ShapeMath.Format(bias.Shape)} does not match {m} output channels");
        }

        var geometry = Geometry(x.Shape, w.Shape);
        var y = context.AllocateOutput(0, x.DataType, _outputShape);
        if (y.Length == 0)
        {
            return;
        }

        var sum = context.Input(3);
        if (sum is not null && (sum.DataType != x.DataType || !ShapeMath.SameShape(sum.Shape, y.Shape)))
        {
            throw new KernelException($"FusedConv sum {sum} does not match the output {DataTypes.Name(x.DataType)}{ShapeMath.Format(y.Shape)}");
        }

        if (_blocked != BlockedOperands.None && (x.DataType != DataType.Float32 || ((_blocked & BlockedOperands.X) != 0 && !ChannelBlockedLayout.Fits(c))
            || ((_blocked & (BlockedOperands.Sum | BlockedOperands.Y)) != 0 && !ChannelBlockedLayout.Fits(m))))
        {
            throw new KernelException($"FusedConv with channel-blocked operands needs float32 and channels in multiples of {ChannelBlockedLayout.Lanes}, got X {DataTypes.Name(x.DataType)}{ShapeMath.Format(x.Shape)} and {m} output channels");
        }

        if (x.DataType == DataType.Float32)
        {
            Run(x, w, bias, sum, y, geometry, context.Parallel);
        }
        else if (FloatStaging.IsStaged(x.DataType))
        {
            var wide = Tensor.Allocate(DataType.Float32, y.Shape);
            Run(FloatStaging.Widen(x)!, FloatStaging.Widen(w)!, FloatStaging.Widen(bias), FloatStaging.Widen(sum), wide, geometry, context.Parallel);
            FloatStaging.Narrow(wide, y);
        }
        else
        {
            throw new KernelException($"Conv does not support {DataTypes.Name(x.DataType)}");
        }
    }

    private ConvGeometry Geometry(int[] xShape, int[] wShape)
    {
        if (_geometry is not null && ShapeMath.SameShape(xShape, _lastX) && ShapeMath.SameShape(wShape, _lastW))
        {
            return _geometry;
        }

        var geometry = Resolve(_attributes, xShape, wShape);
        var outputShape = new int[xShape.Length];
        outputShape[0] = xShape[0];
        outputShape[1] = wShape[0];
        geometry.Output.CopyTo(outputShape, 2);
        (_lastX, _lastW, _geometry, _outputShape) = (xShape.ToArray(), wShape.ToArray(), geometry, outputShape);
        return geometry;
    }

    private static ConvGeometry Resolve(ConvAttributes attributes, int[] xShape, int[] wShape)
    {
        int rank = xShape.Length - 2;
        var kernel = attributes.ResolveKernel(wShape, rank);
        var strides = attributes.PerAxis(attributes.Strides, "strides", rank, 1, 1);
        var dilations = attributes.PerAxis(attributes.Dilations, "dilations", rank, 1, 1);
        var (begin, end) = attributes.AutoPad == "NOTSET" ? attributes.ExplicitPads(rank) : (new int[rank], new int[rank]);
        var output = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            int input = xShape[d + 2];
            int extent = dilations[d] * (kernel[d] - 1) + 1;
            if (attributes.AutoPad is "SAME_UPPER" or "SAME_LOWER")
            {
                output[d] = (input + strides[d] - 1) / strides[d];
                int total = Math.Max(0, (output[d] - 1) * strides[d] + extent - input);
                begin[d] = attributes.AutoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
                end[d] = total - begin[d];
            }
            else
            {
                long span = (long)input + begin[d] + end[d] - extent;
                if (span < 0)
                {
                    throw new KernelException($"Conv kernel extent {extent} exceeds padded input {input + begin[d] + end[d]} on axis {d}");
                }

                output[d] = (int)(span / strides[d]) + 1;
            }
        }

        return new ConvGeometry(xShape[2..], kernel, strides, dilations, begin, end, output);
    }

    private void Run(Tensor x, Tensor w, Tensor? bias, Tensor? sum, Tensor y, ConvGeometry g, ParallelRunner parallel)
    {
        int group = (int)_attributes.Group;
        int n = x.Shape[0], c = x.Shape[1], m = w.Shape[0];
        bool depthwise = c == group && m == group;
        float* px = (float*)x.Pointer, pw = (float*)w.Pointer, py = (float*)y.Pointer;
        float* pb = bias is null ? null : (float*)bias.Pointer;
        float* ps = sum is null ? null : (float*)sum.Pointer;
        var packed = ReferenceEquals(w, _constantW) ? _packedW : null;
        bool keepsBlocked = KeepsBlocked(group, _activation);
        bool channelBlocked = packed is not null && ChannelBlockedConv.Applies(g, m / group, keepsBlocked && (_blocked & BlockedOperands.X) != 0);
        float* blockedY = null;
        bool native = channelBlocked && keepsBlocked;
        if (_blocked != BlockedOperands.None && !native)
        {
            // The kernel this call takes reads and writes NCHW (other shapes than the graph's, or a tier without
            // ChannelBlockedConv): its blocked operands go through scratch copies.
            blockedY = Unblock(ref px, ref ps, ref py, n, c, m, g);
        }

        if (g.Rank == 2 && depthwise)
        {
            DepthwiseConv2D.Run(px, pw, pb, ps, py, n * c, c, g, _activation, parallel);
        }
        else if (channelBlocked)
        {
            _channelBlocked ??= new ChannelBlockedConv(pw, m, c / group, g.KernelSize, packed![0].Config.Kc);
            _channelBlocked.Run(px, pb, ps, py, n, c, m, group, g, _activation, native ? _blocked : BlockedOperands.None, parallel);
        }
        else if (DirectConv2D.Applies(g, packed))
        {
            _direct.Run(px, pb, ps, py, packed!, n, c, m, group, g, _activation, parallel);
        }
        else
        {
            RunGemms(px, pw, pb, ps, py, packed, n, c, m, group, g, parallel);
        }

        if (blockedY != null)
        {
            ChannelBlockedLayout.ToBlocked(py, blockedY, n, m, g.OutputSize);
        }

        // Only raw pointers are used above: the tensors must outlive the work even when the caller drops them.
        GC.KeepAlive(x);
        GC.KeepAlive(w);
        GC.KeepAlive(bias);
        GC.KeepAlive(sum);
        GC.KeepAlive(y);
    }

    /// <summary>
    /// Whether a node's convolution, at these static shapes, runs <see cref="ChannelBlockedConv"/> reading and writing
    /// channel-blocked operands itself, given whether its X is channel-blocked (a strided 1x1 kernel takes that kernel
    /// only then): the engine's channel-block-layout pass asks this, so its choice is the kernel's choice on this
    /// machine's SIMD tier.
    /// </summary>
    internal static bool KeepsChannelBlocked(KernelInfo info, int[] xShape, int[] wShape, bool xBlocked)
    {
        var attributes = new ConvAttributes(info);
        var activation = info.Domain == TesseraDomain.Name ? FusedActivation.FromAttributes(info) : FusedActivation.None;
        int group = (int)attributes.Group;
        return info.ConstantInput(1) is { DataType: DataType.Float32 } && xShape.Length == 4 && wShape.Length == 4 && KeepsBlocked(group, activation)
            && ChannelBlockedConv.Applies(Resolve(attributes, xShape, wShape), wShape[0] / group, xBlocked);
    }

    /// <summary>ChannelBlockedConv keeps blocked operands for one group, and a blocked Y with an activation it may apply per chunk.</summary>
    private static bool KeepsBlocked(int group, FusedActivation activation) => group == 1 && activation.IsExactPerElement;

    /// <summary>
    /// Points X and sum at NCHW copies of the blocked ones and a blocked Y at NCHW scratch; returns the blocked Y to copy
    /// that scratch into after the run (null when Y is NCHW).
    /// </summary>
    private float* Unblock(ref float* px, ref float* ps, ref float* py, int n, int c, int m, ConvGeometry g)
    {
        if ((_blocked & BlockedOperands.X) != 0)
        {
            float* planar = ConvScratch.Get(4, (long)n * c * g.InputSize);
            ChannelBlockedLayout.ToPlanar(px, planar, n, c, g.InputSize);
            px = planar;
        }

        if ((_blocked & BlockedOperands.Sum) != 0 && ps != null)
        {
            float* planar = ConvScratch.Get(5, (long)n * m * g.OutputSize);
            ChannelBlockedLayout.ToPlanar(ps, planar, n, m, g.OutputSize);
            ps = planar;
        }

        if ((_blocked & BlockedOperands.Y) == 0)
        {
            return null;
        }

        float* blockedY = py;
        py = ConvScratch.Get(6, (long)n * m * g.OutputSize);
        return blockedY;
    }

    private void RunGemms(float* px, float* pw, float* pb, float* ps, float* py, SgemmPackedA[]? packed, int n, int c, int m, int group,
        ConvGeometry g, ParallelRunner parallel)
    {
        int cg = c / group, mg = m / group;
        int rowsK = cg * g.KernelSize;
        int items = n * group;
        var job = new GemmJob(px, pw, pb, ps, py, packed, c, m, cg, mg, rowsK, group, g, _activation);
        if (items >= parallel.Degree && parallel.Degree > 1 && (long)mg * rowsK * g.OutputSize < SmallGemm)
        {
            var body = new GemmItemsBody(job);
            parallel.ForRange(items, 1, ref body);
            return;
        }

        for (int i = 0; i < items; i++)
        {
            job.Item(i, parallel);
        }
    }

    /// <summary>One image's one group: the GEMM over im2col bands (or X itself for pointwise kernels), finishing each tile with bias and activation.</summary>
    private static void Item(int item, float* px, float* pw, float* pb, float* ps, float* py, SgemmPackedA[]? packed, int c, int m,
        int cg, int mg, int rowsK, int group, ConvGeometry g, FusedActivation activation, ParallelRunner parallel)
    {
        int image = item / group, gi = item % group;
        float* xg = px + ((long)image * c + (long)gi * cg) * g.InputSize;
        float* yg = py + ((long)image * m + (long)gi * mg) * g.OutputSize;
        float* wg = pw + (long)gi * mg * rowsK;
        int outSize = g.OutputSize;
        float beta = 0f;
        if (ps != null)
        {
            // The sum goes in first and the GEMM accumulates onto it, so the epilogue's activation sees conv + bias + sum.
            long count = (long)mg * outSize;
            float* sg = ps + ((long)image * m + (long)gi * mg) * outSize;
            new ReadOnlySpan<float>(sg, checked((int)count)).CopyTo(new Span<float>(yg, checked((int)count)));
            beta = 1f;
        }

        var epilogue = new SgemmEpilogue(pb is null ? null : pb + (long)gi * mg, null, activation);
        if (g.IsPointwise)
        {
            Gemm(packed?[gi], wg, mg, rowsK, xg, outSize, beta, yg, outSize, epilogue, parallel);
            return;
        }

        if (g.Rank == 2)
        {
            var panels = Im2ColPanelPacker.For(g, xg);
            if (packed is not null)
            {
                Sgemm.Multiply(packed[gi], panels, outSize, beta, yg, outSize, parallel, epilogue);
            }
            else
            {
                Sgemm.Multiply(mg, rowsK, wg, rowsK, panels, outSize, beta, yg, outSize, parallel, epilogue);
            }

            return;
        }

        int outLast = g.Output[^1];
        int outer = outSize / outLast;
        int band = (int)Math.Clamp(ColumnBudget / Math.Max(1L, (long)rowsK * outLast), 1, outer);
        float* col = ConvScratch.Get((long)rowsK * band * outLast);
        for (int o0 = 0; o0 < outer; o0 += band)
        {
            int o1 = Math.Min(outer, o0 + band);
            int width = (o1 - o0) * outLast;
            Im2Col.Fill(xg, cg, g, o0, o1, col, parallel);
            Gemm(packed?[gi], wg, mg, rowsK, col, width, beta, yg + (long)o0 * outLast, outSize, epilogue, parallel);
        }
    }

    private static void Gemm(SgemmPackedA? packed, float* w, int mg, int rowsK, float* b, int n, float beta, float* y, int ldy,
        SgemmEpilogue epilogue, ParallelRunner parallel)
    {
        if (packed is not null)
        {
            Sgemm.Multiply(packed, false, n, b, n, beta, y, ldy, parallel, epilogue);
        }
        else
        {
            Sgemm.Multiply(false, false, mg, n, rowsK, 1f, w, rowsK, b, n, beta, y, ldy, parallel, epilogue: epilogue);
        }
    }

    /// <summary>The arguments of <see cref="Item"/> shared by all items of one call.</summary>
    private readonly struct GemmJob(float* px, float* pw, float* pb, float* ps, float* py, SgemmPackedA[]? packed, int c, int m, int cg,
        int mg, int rowsK, int group, ConvGeometry g, FusedActivation activation)
    {
        public void Item(int item, ParallelRunner parallel) =>
            ConvKernel.Item(item, px, pw, pb, ps, py, packed, c, m, cg, mg, rowsK, group, g, activation, parallel);
    }

    private readonly struct GemmItemsBody(GemmJob job) : IRangeBody
    {
        public void Invoke(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                job.Item(i, ParallelRunner.Sequential);
            }
        }
    }
}
