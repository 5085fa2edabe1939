using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tessera.Kernels.Core;
using Tessera.Kernels.Fused;

namespace Tessera.Kernels.Convolution;

/// <summary>
/// 2-D convolution with vectors along the output channels (as ONNX Runtime's NCHWc kernels), for constant weights whose
/// output channels per group are a multiple of 64, with AVX-512. The input is rearranged into a <see cref="PhaseLayout"/>
/// as for <see cref="DirectConv2D"/>, but the micro-kernel (<see cref="ChannelBlockMicroKernel"/>: 64 channels x 6
/// pixels) broadcasts one input float per pixel from that pixel's own column, so its tiles run over the valid output
/// pixels of a batch of images back to back: none of the layout's padding columns (2 of 16 on a 14x14 plane, 15 of 64
/// on a 7x7 one) is computed, and no B panel is packed. The weights are repacked once as 64-channel blocks, tap-major
/// (on AVX2 each depth block then quarter-major, as <see cref="ChannelBlockMicroKernelAvx2"/> reads it).
/// Work items are (channel block, chunk of 96 pixels), or in batches of larger planes whole images (see
/// <see cref="ImageByImage"/>), or one image's output rows (see <see cref="ByRows"/>); a chunk sums 144 depth steps at a
/// time into a chunk tile (pixel-major) that is transposed into Y, with bias, residual sum and activation, once its last
/// depth block is done.
/// </summary>
/// <remarks>A kernel instance is used by one call at a time (calls of a session are serialised).</remarks>
internal sealed unsafe partial class ChannelBlockedConv
{
    private const int Block = ChannelBlockMicroKernel.Channels;

    private const int Tile = ChannelBlockMicroKernel.Pixels;

    private const int Lanes = InterleavedLayout.Lanes;

    // Depth steps per block: a 3x3 kernel's 9 taps of one 16-channel input block, whose 144 x 64 weights (36 KiB) the
    // kernel rereads for each tile of a chunk. Measured against 64, 128 and 288 on ResNet-18: 3-5% faster than 128.
    // The AVX2 kernel (a quarter's weights 9 KiB) measured no better with 576 (fewer tile reloads): ResNet-18 b8, 1 thread,
    // per-node minimum of 8 alternated single-run processes, load 5-6: the 3x3 layers took 1.00-1.03x the time with 576
    // (issue 13, c10).
    // (1x1 kernels take DirectConv2D's depth blocks instead: see the constructor.)
    private const int Kc = 144;

    // Pixels per work item: 16 tiles of 6, and 6 transposes of 16. Its tile matrix (24 KiB) waits in L1/L2 between
    // depth blocks; smaller chunks would reload each depth block's weights more often.
    private const int ChunkPixels = 96;

    // Floats of input layouts per batch of images (32 MiB): larger batches run a part at a time.
    private const long LayoutBudget = 1L << 23;

    private readonly byte[] _weightStorage;
    private readonly float* _weights;
    private readonly int _depth;
    private readonly int _depthBlock;

    private int[] _offsets = [];
    private int[] _columns = [];
    private (int Channels, long ChannelFloats, int Pitch, long Plane, int KernelH, int KernelW, int DilationH, int DilationW) _offsetsKey;
    private (int Images, int Size, int Width, int Pitch, long LayoutFloats) _columnsKey;

    /// <summary>
    /// Repacks W (m rows of input channels per group x kernel size floats) as 64-channel blocks whose depth runs
    /// over 16-channel input blocks, then taps, then the channels of the block: the order the interleaved layout keeps
    /// neighbouring depth steps on one cache line. A 1x1 kernel (a downsample that runs here only when its X is
    /// channel-blocked) sums its depth in <paramref name="sgemmDepthBlock"/> blocks, those of the packed SGEMM weights
    /// <see cref="DirectConv2D"/> would read: each block's sum is added to the last, so the same blocks give the same
    /// bits, and keeping its X blocked cannot change its output.
    /// </summary>
    public ChannelBlockedConv(float* w, int m, int channels, int kernelSize, int sgemmDepthBlock)
    {
        _depth = channels * kernelSize;
        _depthBlock = kernelSize == 1 ? sgemmDepthBlock : Kc;
        long floats = Math.Max(1L, (long)m * _depth);
        _weightStorage = GC.AllocateUninitializedArray<byte>(checked((int)(floats * sizeof(float) + 64)), pinned: true);
        byte* start = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_weightStorage));
        _weights = (float*)(((nuint)start + 63) & ~(nuint)63);
        for (int block = 0; block < m / Block; block++)
        {
            float* dst = _weights + (long)block * _depth * Block;
            for (int cb = 0; cb < channels; cb += Lanes)
            {
                for (int tap = 0; tap < kernelSize; tap++)
                {
                    for (int ci = cb; ci < Math.Min(channels, cb + Lanes); ci++, dst += Block)
                    {
                        for (int j = 0; j < Block; j++)
                        {
                            dst[j] = w[(long)(block * Block + j) * _depth + ci * kernelSize + tap];
                        }
                    }
                }
            }
        }

        if (!ChannelBlockMicroKernel.IsSupported)
        {
            // The AVX2 kernel reads each depth block's weights quarter by quarter.
            var staged = new float[_depthBlock * Block];
            for (long at = 0; at < (long)m / Block * _depth; at += _depth)
            {
                for (int pc = 0; pc < _depth; pc += _depthBlock)
                {
                    ChannelBlockMicroKernelAvx2.RepackDepthBlock(_weights + (at + pc) * Block, Math.Min(_depthBlock, _depth - pc), staged);
                }
            }
        }
    }

    // Share of padding columns in a layout's output rows above which this kernel is taken. Measured on ResNet-18 (one
    // image, one thread, min of 30 runs, against DirectConv2D): 10-15% faster on 14x14 and 7x7 planes (12.5% and 23%
    // padding), 3-6% on 28x28 ones (7.5%), about as fast on 56x56 (3.5%) and a strided 28x28 (3.9%), and 50% slower on
    // the 7x7 stride-2 stem over 3 channels (2.6%), whose interleaved layout is 16 lanes wide for 3 channels. At batch 8
    // (image by image, one thread, Conv alone, alternated in one process, load 21-31) a share of 0.03, which takes the
    // 56x56 and strided 28x28 planes too, measured 0.95-1.03 of DirectConv2D on them alone. Taken since the
    // channel-block-layout pass keeps activations blocked between kernels that run here: ResNet-18's first stage
    // (maxpool output to the second stage's first block) at batch 8, one thread, CPU per inference in alternated pairs,
    // 0.88-0.99 of the 0.05 bound's with AVX-512 (6 pairs, median 0.94, load 29-48) and 0.92-0.97 on AVX2 (5 pairs, load
    // 31-37). The stem (2.6% padding) stays on DirectConv2D.
    private const double PaddingShare = 0.03;

    /// <summary>Whether this machine has a micro-kernel for it: AVX-512's, or AVX2/FMA's.</summary>
    public static bool IsSupported => ChannelBlockMicroKernel.IsSupported || ChannelBlockMicroKernelAvx2.IsSupported;

    /// <summary>
    /// Whether a convolution takes this kernel: 2-D with more than one tap (a strided 1x1 kernel's interleaving would
    /// transpose every stride phase for one depth step per channel: slower than DirectConv2D, which fills one phase),
    /// or a strided 1x1 one whose X is channel-blocked already (<paramref name="xBlocked"/>: its fill then copies the
    /// pixels read, 16 channels a vector; ResNet's downsamples after a blocked stage output), output channels per group
    /// a multiple of 64, and enough of the layout's columns padding that skipping them beats
    /// <see cref="DirectConv2D"/>'s wider reuse. The strided 1x1 one with a blocked X needs no padding share: what it
    /// saves is the NCHW fill, and where its X is blocked the layout pass keeps that X blocked only when it runs here
    /// (ResNet-18's first downsample, 56x56 to 28x28, has no padding column; taking it let the first stage's output stay
    /// blocked: the first stage at batch 8, one thread, CPU per inference in alternated pairs 0.93-0.97 with AVX-512, 5
    /// pairs, load 29-31; 0.91-1.14 on AVX2, 8 pairs, median 0.99, load 21-26).
    /// </summary>
    public static bool Applies(ConvGeometry g, int outputChannelsPerGroup, bool xBlocked) =>
        IsSupported && g.Rank == 2 && (g.KernelSize > 1 || (xBlocked && !g.IsPointwise)) && outputChannelsPerGroup % Block == 0
        && ((xBlocked && g.KernelSize == 1) || g.OutputSize < (1 - PaddingShare) * new PhaseLayout(g).PaddedColumns);

    /// <summary>
    /// Y (n x m x output plane) = act(conv(X, W) + bias + sum); sum (shaped like Y) and bias may be null. X, sum and Y
    /// are NCHW or, as <paramref name="blocked"/> says, channel-blocked (group 1; Y only with an activation exact per element).
    /// </summary>
    public void Run(float* x, float* bias, float* sum, float* y, int n, int c, int m, int group, ConvGeometry g, FusedActivation activation,
        BlockedOperands blocked, ParallelRunner parallel)
    {
        var layout = new PhaseLayout(g);
        int cg = c / group;
        var interleaved = new InterleavedLayout(layout, cg);
        bool imageByImage = ImageByImage(n, g, parallel.Degree);
        bool byRows = !imageByImage && ByRows(n, g, parallel.Degree, blocked, activation, m / group, cg);
        int perBatch = imageByImage ? 1 : (int)Math.Clamp(LayoutBudget / interleaved.Floats, 1, n);
        int* offsets = Offsets(layout, interleaved, cg, g);
        int* columns = Columns(layout, g, interleaved.Floats, perBatch);
        for (int gi = 0; gi < group; gi++)
        {
            if (byRows)
            {
                // Each thread fills the rows its part's taps read into its own scratch and computes every block of its part.
                var job = new Job(x, bias, sum, y, _weights, null, offsets, columns, interleaved, g, activation, c, m, group, gi, 0, 1, _depth, _depthBlock,
                    blocked);
                var rows = new RowsBody(job, parallel.Degree);
                parallel.ForChunks(parallel.Degree, parallel.Degree, ref rows);
                continue;
            }

            if (imageByImage)
            {
                // Each thread fills an image's layout into its own scratch and computes all of its blocks from there.
                var job = new Job(x, bias, sum, y, _weights, null, offsets, columns, interleaved, g, activation, c, m, group, gi, 0, n, _depth, _depthBlock,
                    blocked);
                var images = new ImageBody(job);
                parallel.ForChunks(n, n, ref images);
                continue;
            }

            float* layouts = ConvScratch.Get(1, interleaved.Floats * perBatch);
            for (int first = 0; first < n; first += perBatch)
            {
                var job = new Job(x, bias, sum, y, _weights, layouts, offsets, columns, interleaved, g, activation, c, m, group, gi,
                    first, Math.Min(perBatch, n - first), _depth, _depthBlock, blocked);
                var fill = new FillBody(job);
                int blocks = job.Count * interleaved.Blocks;
                var runner = (long)blocks * interleaved.BlockFloats < 1 << 14 ? ParallelRunner.Sequential : parallel;
                runner.ForChunks(blocks, blocks, ref fill);

                var compute = new ComputeBody(job);
                parallel.ForChunks(job.Items, job.Items, ref compute);
                if (!job.ActivationPerChunk)
                {
                    var finish = new ActivationBody(job);
                    int planes = job.Count * job.Rows;
                    runner = (long)planes * g.OutputSize < 1 << 14 ? ParallelRunner.Sequential : parallel;
                    runner.ForRange(planes, 1, ref finish);
                }
            }
        }

        GC.KeepAlive(_weightStorage);
    }

    /// <summary>Offset of each depth step (input block, tap, channel of the block) in an image's interleaved layout.</summary>
    private int* Offsets(in PhaseLayout layout, in InterleavedLayout interleaved, int channels, ConvGeometry g)
    {
        var key = (channels, layout.ChannelFloats, layout.RowPitch, layout.PlaneFloats, g.Kernel[0], g.Kernel[1], g.Dilations[0], g.Dilations[1]);
        int taps = g.KernelSize;
        if (_offsets.Length != channels * taps || key != _offsetsKey)
        {
            // Pinned, so the bodies can read it through a pointer while other threads run.
            _offsets = GC.AllocateUninitializedArray<int>(channels * taps, pinned: true);
            Span<int> tapOffsets = stackalloc int[taps];
            layout.Offsets(1, g, tapOffsets);
            int k = 0;
            for (int cb = 0; cb < channels; cb += Lanes)
            {
                for (int tap = 0; tap < taps; tap++)
                {
                    for (int ci = 0; ci < Math.Min(Lanes, channels - cb); ci++)
                    {
                        _offsets[k++] = checked((int)(cb / Lanes * interleaved.BlockFloats + (long)tapOffsets[tap] * Lanes + ci));
                    }
                }
            }

            _offsetsKey = key;
        }

        return (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_offsets));
    }

    /// <summary>For each valid output pixel v of a batch of images, its offset in their interleaved layouts (image v / plane size first).</summary>
    private int* Columns(in PhaseLayout layout, ConvGeometry g, long layoutFloats, int images)
    {
        int size = g.OutputSize, outW = g.Output[1];
        var key = (images, size, outW, layout.RowPitch, layoutFloats);
        if (_columns.Length == 0 || key != _columnsKey)
        {
            _columns = GC.AllocateUninitializedArray<int>(images * size, pinned: true);
            for (int v = 0; v < _columns.Length; v++)
            {
                int pos = v % size;
                _columns[v] = checked((int)(v / size * layoutFloats + ((long)(pos / outW) * layout.RowPitch + pos % outW) * Lanes));
            }

            _columnsKey = key;
        }

        return (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_columns));
    }
}
