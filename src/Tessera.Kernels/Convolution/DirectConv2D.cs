using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tessera.Kernels.Core;
using Tessera.Kernels.Fused;
using Tessera.Kernels.Linear;

namespace Tessera.Kernels.Convolution;

/// <summary>
/// 2-D convolution without im2col: the input of each image's group is rearranged once into a <see cref="PhaseLayout"/>
/// (about the size of the input), then the pre-packed weights (SGEMM A slivers) multiply it with micro-kernels that
/// read each tap's row straight from that layout. Output tiles land in a scratch matrix (one row per output channel,
/// output rows at the layout's pitch), from which bias, the residual sum and the activation are applied while
/// copying into Y. Threads split whole images when there are enough, else the column tiles (or, for small outputs,
/// the channel slivers) of one image, so no thread repeats another's work.
/// </summary>
/// <remarks>A kernel instance is used by one call at a time (calls of a session are serialised).</remarks>
internal sealed unsafe class DirectConv2D
{
    private const int Mr = DirectConvMicroKernel.Mr;
    private const int Nr = DirectConvMicroKernel.Nr;

    // Column tiles swept per depth block: the layout rows they read (Kc taps x 11 * 48 columns) stay in L2.
    private const int ChunkTiles = 11;

    private int[] _offsets = [];
    private (int Channels, long ChannelFloats, int Pitch, long Plane, int KernelH, int KernelW, int DilationH, int DilationW) _offsetsKey;

    public static bool Applies(ConvGeometry g, SgemmPackedA[]? packed) =>
        DirectConvMicroKernel.IsSupported && g.Rank == 2 && !g.IsPointwise && packed is { Length: > 0 } && packed[0].Config.Mr == Mr;

    /// <summary>Y (n x m x output plane) = act(conv(X, W) + bias + sum); sum (shaped like Y) and bias may be null.</summary>
    public void Run(float* x, float* bias, float* sum, float* y, SgemmPackedA[] packed, int n, int c, int m, int group, ConvGeometry g,
        FusedActivation activation, ParallelRunner parallel)
    {
        var layout = new PhaseLayout(g);
        int cg = c / group;
        var job = new Job(x, bias, sum, y, packed, c, m, group, g, layout, Offsets(layout, cg, g), activation);
        int items = n * group;
        int degree = parallel.Degree;
        if (degree > 1 && items >= degree && (items % degree == 0 || items >= 4 * degree))
        {
            var body = new ItemsBody(job);
            parallel.ForRange(items, 1, ref body);
            return;
        }

        for (int i = 0; i < items; i++)
        {
            var item = job.Item(i, ConvScratch.Get(1, layout.Floats(cg)), ConvScratch.Get(2, job.ScratchFloats));
            var fill = new FillBody(job, item);
            var runner = (long)cg * layout.ChannelFloats < 1 << 14 ? ParallelRunner.Sequential : parallel;
            runner.ForRange(cg, 1, ref fill);

            var compute = new ComputeBody(job, item, Math.Min(degree, job.Slivers * job.Tiles));
            parallel.ForRange(compute.Parts, 1, ref compute);

            var finish = new FinishBody(job, item);
            runner = (long)job.Rows * g.OutputSize < 1 << 14 ? ParallelRunner.Sequential : parallel;
            runner.ForRange(job.Rows, 1, ref finish);
        }
    }

    private int* Offsets(in PhaseLayout layout, int channels, ConvGeometry g)
    {
        var key = (channels, layout.ChannelFloats, layout.RowPitch, layout.PlaneFloats, g.Kernel[0], g.Kernel[1], g.Dilations[0], g.Dilations[1]);
        int count = channels * g.KernelSize;
        if (_offsets.Length != count || key != _offsetsKey)
        {
            // Pinned, so the bodies can read it through a pointer while other threads run.
            _offsets = GC.AllocateUninitializedArray<int>(count, pinned: true);
            layout.Offsets(channels, g, _offsets);
            _offsetsKey = key;
        }

        return (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_offsets));
    }

    /// <summary>Everything about one call that the parallel bodies share (read only).</summary>
    private readonly struct Job(float* x, float* bias, float* sum, float* y, SgemmPackedA[] packed, int c, int m, int group, ConvGeometry g,
        PhaseLayout layout, int* offsets, FusedActivation activation)
    {
        public readonly ConvGeometry G = g;
        public readonly PhaseLayout Layout = layout;
        public readonly int* Offsets = offsets;
        public readonly FusedActivation Activation = activation;
        public readonly SgemmPackedA[] Packed = packed;
        public readonly int Cg = c / group;
        public readonly int Rows = m / group;
        public readonly int Slivers = (m / group + Mr - 1) / Mr;
        public readonly int Tiles = (layout.PaddedColumns + Nr - 1) / Nr;

        public long ScratchFloats => (long)Slivers * Mr * Layout.PaddedColumns;

        public Item Item(int index, float* layoutBuffer, float* tiles)
        {
            int image = index / group, gi = index % group;
            long yOffset = ((long)image * m + (long)gi * Rows) * G.OutputSize;
            return new Item(
                x + ((long)image * c + (long)gi * Cg) * G.InputSize,
                y + yOffset,
                sum == null ? null : sum + yOffset,
                bias == null ? null : bias + (long)gi * Rows,
                Packed[gi],
                layoutBuffer,
                tiles);
        }

        /// <summary>Slivers [s0, s1) against column tiles [t0, t1), into the tile matrix.</summary>
        public void Compute(in Item item, int s0, int s1, int t0, int t1)
        {
            var a = item.Packed;
            int kc0 = a.Config.Kc, k = a.K, ldc = Layout.PaddedColumns;
            for (int tc = t0; tc < t1; tc += ChunkTiles)
            {
                int te = Math.Min(t1, tc + ChunkTiles);
                for (int pc = 0; pc < k; pc += kc0)
                {
                    int kc = Math.Min(kc0, k - pc);
                    int* offsets = Offsets + pc;
                    bool accumulate = pc > 0;
                    for (int s = s0; s < s1; s++)
                    {
                        float* sliver = a.Block(s * Mr, pc);
                        float* cRow = item.Tiles + (long)s * Mr * ldc;
                        for (int t = tc; t < te; t++)
                        {
                            int j = t * Nr;
                            int width = Math.Min(Nr, ldc - j);
                            if (width == Nr)
                            {
                                DirectConvMicroKernel.Run3(sliver, item.Layout + j, offsets, kc, cRow + j, ldc, accumulate);
                                continue;
                            }

                            for (int q = j; q < j + width; q += 16)
                            {
                                DirectConvMicroKernel.Run1(sliver, item.Layout + q, offsets, kc, cRow + q, ldc, accumulate);
                            }
                        }
                    }
                }
            }

            GC.KeepAlive(a);
        }

        /// <summary>Output channels [r0, r1): the valid columns of their tile rows, plus bias and sum, then the activation.</summary>
        public void Finish(in Item item, int r0, int r1)
        {
            int outH = G.Output[0], outW = G.Output[1], pitch = Layout.RowPitch, size = G.OutputSize;
            for (int r = r0; r < r1; r++)
            {
                float* src = item.Tiles + (long)r * Layout.PaddedColumns;
                float* dst = item.Y + (long)r * size;
                for (int oh = 0; oh < outH; oh++)
                {
                    new ReadOnlySpan<float>(src + (long)oh * pitch, outW).CopyTo(new Span<float>(dst + (long)oh * outW, outW));
                }

                var plane = new Span<float>(dst, size);
                if (item.Bias != null)
                {
                    TensorPrimitives.Add(plane, item.Bias[r], plane);
                }

                if (item.Sum != null)
                {
                    TensorPrimitives.Add(plane, new ReadOnlySpan<float>(item.Sum + (long)r * size, size), plane);
                }

                Activation.Apply(plane);
            }
        }

        public void Sequential(int index)
        {
            var item = Item(index, ConvScratch.Get(1, Layout.Floats(Cg)), ConvScratch.Get(2, ScratchFloats));
            Layout.Fill(item.X, 0, Cg, Cg, item.Layout, G);
            Compute(item, 0, Slivers, 0, Tiles);
            Finish(item, 0, Rows);
        }
    }

    /// <summary>The pointers of one image's group.</summary>
    private readonly struct Item(float* x, float* y, float* sum, float* bias, SgemmPackedA packed, float* layout, float* tiles)
    {
        public readonly float* X = x;
        public readonly float* Y = y;
        public readonly float* Sum = sum;
        public readonly float* Bias = bias;
        public readonly SgemmPackedA Packed = packed;
        public readonly float* Layout = layout;
        public readonly float* Tiles = tiles;
    }

    private readonly struct ItemsBody(Job job) : IRangeBody
    {
        public void Invoke(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                job.Sequential(i);
            }
        }
    }

    private readonly struct FillBody(Job job, Item item) : IRangeBody
    {
        public void Invoke(int start, int end) => job.Layout.Fill(item.X, start, end, job.Cg, item.Layout, job.G);
    }

    private readonly struct FinishBody(Job job, Item item) : IRangeBody
    {
        public void Invoke(int start, int end) => job.Finish(item, start, end);
    }

    /// <summary>
    /// Part p of <see cref="Parts"/>: a contiguous share of the column tiles when there are plenty, else of the slivers
    /// (a small output: its few tiles would split unevenly).
    /// </summary>
    private readonly struct ComputeBody(Job job, Item item, int parts) : IRangeBody
    {
        private readonly bool _byTiles = Imbalance(job.Tiles, Math.Max(1, parts)) <= Imbalance(job.Slivers, Math.Max(1, parts));

        public int Parts { get; } = Math.Max(1, parts);

        public void Invoke(int start, int end)
        {
            bool byTiles = _byTiles;
            for (int p = start; p < end; p++)
            {
                if (byTiles)
                {
                    job.Compute(item, 0, job.Slivers, Share(job.Tiles, p), Share(job.Tiles, p + 1));
                }
                else
                {
                    job.Compute(item, Share(job.Slivers, p), Share(job.Slivers, p + 1), 0, job.Tiles);
                }
            }
        }

        private int Share(int total, int p) => (int)((long)total * p / Parts);

        /// <summary>The largest share of <paramref name="total"/> units over the average share.</summary>
        private static double Imbalance(int total, int parts) => (double)((total + parts - 1) / parts) * parts / total;
    }
}
