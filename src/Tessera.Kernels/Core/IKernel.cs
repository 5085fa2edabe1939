namespace Tessera.Kernels.Core;

/// <summary>
/// One node's computation. A kernel is created once per node when a session is built (so it may pre-pack
/// constant weights) and then computed many times, possibly from several threads' sessions in turn but never
/// concurrently with itself.
/// </summary>
public interface IKernel
{
    void Compute(KernelContext context);
}

/// <summary>Creates the kernel for one node; throws <see cref="KernelException"/> when the node's attributes are invalid.</summary>
public delegate IKernel KernelFactory(KernelInfo info);
