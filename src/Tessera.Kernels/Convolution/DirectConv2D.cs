using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tessera.Kernels.Core;
using Tessera.Kernels.Fused;
using Tessera.Kernels.Linear;

namespace Tessera.Kernels.Convolution;

/// <summary>
/// 2-D convolution without im2col: the input of each image's group is rearranged once into a <see cref="PhaseLayout"/>
/// (about the size of the input), then the pre-packed weights (SGEMM A slivers) multiply it with micro-kernels that
/// read each tap's row straight from that layout. Images whose output planes are small (where most of a layout's
/// columns are padding) run as a batch whose valid columns are packed into B panels (see DirectConv2D.Panels.cs), so
/// each weight block loaded into cache also serves every image of the batch. Each thread computes its output channels
/// x columns a chunk of columns at a time into its own small tile matrix and finishes each sliver of the chunk (valid
/// columns, bias, residual sum and the activation) into Y as soon as its last depth block is done, while it is in L1.
/// Threads split whole batches when there are enough, else the channel slivers or column tiles of one batch, whichever
/// splits the work more evenly (<see cref="DirectConvSplit"/>); either way they claim the pieces as they come free. The
/// micro-kernels are AVX-512's or AVX2's (<see cref="DirectConvTile"/>), whichever the packed weights were packed for.
/// </summary>
/// <remarks>A kernel instance is used by one call at a time (calls of a session are serialised).</remarks>
internal sealed unsafe partial class DirectConv2D
{
    // Floats of B panels a batch may pack (16 MiB), and how much dearer a panel column is than a layout column: packing
    // costs, and the packed B (read by every part, unlike the layouts' overlapping taps) streams from L3. Measured on
    // ResNet-18 at batch 8, panels won where they save a quarter of the micro-kernel work (7x7 planes) and lost where
    // they save an eighth (14x14 planes), so they are taken only when they save over a fifth.
    private const long PanelBudget = 1L << 22;
    private const double PanelCost = 1.25;

    private int[] _offsets = [];
    private int[] _panelOffsets = [];
    private int _panelWidth;
    private (int Channels, long ChannelFloats, int Pitch, long Plane, int KernelH, int KernelW, int DilationH, int DilationW) _offsetsKey;

    public static bool Applies(ConvGeometry g, SgemmPackedA[]? packed) =>
        g.Rank == 2 && !g.IsPointwise && packed is { Length: > 0 } && DirectConvTile.For(packed[0].Config) is not null;

    /// <summary>Y (n x m x output plane) = act(conv(X, W) + bias + sum); sum (shaped like Y) and bias may be null.</summary>
    public void Run(float* x, float* bias, float* sum, float* y, SgemmPackedA[] packed, int n, int c, int m, int group, ConvGeometry g,
        FusedActivation activation, ParallelRunner parallel)
    {
        var tile = DirectConvTile.For(packed[0].Config)!;
        int nr = tile.Nr;
        var layout = new PhaseLayout(g);
        int cg = c / group;

        // Images run one per batch, reading B from their own layouts; small planes pack a batch of images' valid
        // columns into panels instead, when that saves enough micro-kernel work.
        int packedBatch = (int)Math.Clamp(PanelBudget / ((long)cg * g.KernelSize * g.OutputSize), 1, n);
        bool panels = packedBatch > 1
            && (packedBatch * g.OutputSize + nr - 1) / nr * tile.ColumnCost(nr) * PanelCost < packedBatch * tile.ColumnCost(layout.PaddedColumns);
        var job = new Job(x, bias, sum, y, packed, tile, c, m, group, g, layout, Offsets(layout, cg, g), activation, n,
            panels ? packedBatch : 1, panels ? PanelOffsets(packed[0].Config.Kc, nr) : null);
        int items = job.Batches;
        int degree = parallel.Degree;
        if (degree > 1 && items >= degree && (items % degree == 0 || items >= 4 * degree))
        {
            // One batch per chunk, claimed as threads come free: a thread slowed by another process takes fewer. Running
            // the last round (one image per thread) split within each image as below instead measured no better at
            // ResNet-18 b8, 2 threads: bench/pool-trace.py's split 97.6 / 96.0 -> 101.5 / 94.0 ms with AVX-512, 211 /
            // 177 -> 217 / 196 ms on AVX2 (2 alternated pairs, load 26-34; the split image costs more CPU than it saves).
            var body = new ItemsBody(job);
            parallel.ForChunks(items, items, ref body);
            return;
        }

        // One part per thread when threads share a batch: finer parts measured slower at batch 1 (more passes over the
        // layout, more finishing), and the parts are claimed dynamically anyway. Handing each part out as its 528-column
        // chunks (same sweeps, same order per thread, so a held-up thread keeps only the chunk it is in) and the fills in
        // 4 channel ranges per thread cost ResNet-18 b1 at 2 threads more CPU (compute loops 1.01-1.14x, all loops 1.02-1.05x:
        // the worker ran more of them) and the caller waited longer for the worker (12.7/17.5/30.0 against 9.8/8.3/5.8 ms
        // per inference; WorkerPoolTrace, 3 alternated pairs, load 40-50): dropped (13b5).
        int parts = degree;
        for (int i = 0; i < items; i++)
        {
            var batch = job.Batch(i, ConvScratch.Get(1, job.BatchLayoutFloats), panels ? ConvScratch.Get(3, job.PanelFloats) : null);
            var split = new DirectConvSplit(tile, job.Slivers, job.Columns(batch), panels ? 1 : batch.Count, parts);
            var fill = new FillBody(job, batch);
            int channels = batch.Count * cg;
            var runner = (long)channels * layout.ChannelFloats < 1 << 14 ? ParallelRunner.Sequential : parallel;
            runner.ForChunks(channels, parts, ref fill);
            if (panels)
            {
                var pack = new PackBody(job, batch);
                parallel.ForChunks(job.PanelItems(batch), parts, ref pack);
            }

            var compute = new ComputeBody(job, batch, split);
            parallel.ForChunks(split.Parts, split.Parts, ref compute);

            if (!job.ActivationPerChunk)
            {
                var finish = new ActivationBody(job, batch);
                int planes = batch.Count * job.Rows;
                runner = (long)planes * g.OutputSize < 1 << 14 ? ParallelRunner.Sequential : parallel;
                runner.ForRange(planes, 1, ref finish);
            }
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

    /// <summary>Row offsets k * nr of a packed B panel nr columns wide, for the micro-kernels' per-row offsets.</summary>
    private int* PanelOffsets(int kc, int nr)
    {
        if (_panelOffsets.Length != kc || _panelWidth != nr)
        {
            _panelOffsets = GC.AllocateUninitializedArray<int>(kc, pinned: true);
            for (int k = 0; k < kc; k++)
            {
                _panelOffsets[k] = k * nr;
            }

            _panelWidth = nr;
        }

        return (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_panelOffsets));
    }

    /// <summary>The pointers of one image's group.</summary>
    private readonly struct Item(float* x, float* y, float* sum, float* bias, float* layout)
    {
        public readonly float* X = x;
        public readonly float* Y = y;
        public readonly float* Sum = sum;
        public readonly float* Bias = bias;
        public readonly float* Layout = layout;
    }

    /// <summary>
    /// Images [First, First + Count) of one group, whose layouts lie <see cref="Job.LayoutFloats"/> apart from Layouts;
    /// Panels holds their packed B when the call packs it, else null.
    /// </summary>
    private readonly struct Batch(int first, int count, int group, SgemmPackedA packed, float* layouts, float* panels)
    {
        public readonly float* Panels = panels;
        public readonly int First = first;
        public readonly int Count = count;
        public readonly int Group = group;
        public readonly SgemmPackedA Packed = packed;
        public readonly float* Layouts = layouts;
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

    /// <summary>Channels [start, end) of the batch's images, counted image after image.</summary>
    private readonly struct FillBody(Job job, Batch batch) : IRangeBody
    {
        public void Invoke(int start, int end) => job.Fill(batch, start, end);
    }

    /// <summary>(Depth block, panel) items [start, end) of the batch's B panels.</summary>
    private readonly struct PackBody(Job job, Batch batch) : IRangeBody
    {
        public void Invoke(int start, int end) => job.Pack(batch, start, end);
    }

    /// <summary>Output planes [start, end) of the batch's images, counted image after image.</summary>
    private readonly struct ActivationBody(Job job, Batch batch) : IRangeBody
    {
        public void Invoke(int start, int end) => job.ActivatePlanes(batch, start, end);
    }

    /// <summary>Part p of the split: its slivers against its columns, finished into Y.</summary>
    private readonly struct ComputeBody(Job job, Batch batch, DirectConvSplit split) : IRangeBody
    {
        public void Invoke(int start, int end)
        {
            for (int p = start; p < end; p++)
            {
                var (s0, s1, c0, c1) = split.Part(p);
                job.Compute(batch, s0, s1, c0, c1);
            }
        }
    }
}
