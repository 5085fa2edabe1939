using Tessera.Kernels.Core;
using Tessera.Kernels.Fused;

namespace Tessera.Kernels.Convolution;

// How a run's work is shared between the threads: the policies, and the parallel bodies they post.
internal sealed unsafe partial class ChannelBlockedConv
{
    /// <summary>
    /// Whether a batch runs image by image, each thread taking whole images: when its planes fill two chunks (the
    /// per-image chunks then waste at most one short tile per image; 7x7 planes instead share chunks across images) and
    /// the images split evenly over the threads. An image's layout (460 KiB on a 28x28 plane of 128 channels) then goes
    /// from its fill to its micro-kernels in L2, where the batch's layouts together (3.7 MiB at 8 images) stream from L3.
    /// Measured (CPU time, alternated in one process, load 35-50) at batch 8 against batch-wide items: ResNet-18's
    /// 28x28 block 0.957 at 1 thread, 0.971 at 2; its 14x14 block 0.982 / 0.966; the whole model 0.974 / 0.982. The
    /// order of items alone (all fills first, then an image's chunks for every block) gained nothing: the fill feeding
    /// its own micro-kernels does. Batch-wide items keep both threads busy on one image, or on images that do not split
    /// evenly.
    /// </summary>
    private static bool ImageByImage(int n, ConvGeometry g, int threads) =>
        n > 1 && n % threads == 0 && g.OutputSize >= 2 * ChunkPixels;

    /// <summary>
    /// Whether one image runs split by output rows (<see cref="Job.RunRows"/>), each thread filling the padded rows its
    /// own rows' taps read into its scratch and computing every block of them, instead of the threads filling channel
    /// blocks of one shared layout that each then reads whole (a fill rewrites lines the other core read in the layer
    /// before, and each thread computes from the half of the layout the other wrote: ResNet-18 b1 at 2 threads with
    /// AVX-512, the fills cost 1.79x their CPU alone when both threads ran, issue 13b5). Taken for a channel-blocked X (a
    /// row's fill is a copy), an activation per chunk (nothing runs on whole planes after), planes of two chunks per
    /// thread or more, and weights no larger than the layout, since every thread reads all of them where the channel
    /// split read half (ResNet-18: the first stage's 56x56 layers and the strided conv1 and 1x1 downsample out of it;
    /// not the 28x28 layers, whose 128 x 128 x 9 weights outweigh their layout). Those five layers' CPU against the rest
    /// of the model, `bench/pool-trace.py` at b1 2 threads in alternated runs: 0.92-0.94 of the channel split's with
    /// AVX-512 (5 pairs, median 0.94, load 35-47), 0.95-0.99 on AVX2 (4 pairs, median 0.97, load 35-42).
    /// </summary>
    private static bool ByRows(int n, ConvGeometry g, int threads, BlockedOperands blocked, FusedActivation activation, int rows, int channels) =>
        n == 1 && threads > 1 && (blocked & BlockedOperands.X) != 0 && activation.IsExactPerElement && g.OutputSize >= 2 * threads * ChunkPixels
        && (long)rows * channels * g.KernelSize <= new InterleavedLayout(new PhaseLayout(g), channels).Floats;

    private readonly struct FillBody(Job job) : IRangeBody
    {
        public void Invoke(int start, int end) => job.Fill(start, end);
    }

    private readonly struct ComputeBody(Job job) : IRangeBody
    {
        public void Invoke(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                job.Compute(i);
            }
        }
    }

    private readonly struct ImageBody(Job job) : IRangeBody
    {
        public void Invoke(int start, int end)
        {
            for (int b = start; b < end; b++)
            {
                job.RunImage(b);
            }
        }
    }

    private readonly struct RowsBody(Job job, int parts) : IRangeBody
    {
        public void Invoke(int start, int end)
        {
            for (int part = start; part < end; part++)
            {
                job.RunRows(part, parts);
            }
        }
    }

    private readonly struct ActivationBody(Job job) : IRangeBody
    {
        public void Invoke(int start, int end) => job.ActivatePlanes(start, end);
    }
}
