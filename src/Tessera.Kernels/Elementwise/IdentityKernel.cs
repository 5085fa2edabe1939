using Tessera.Kernels.Core;

namespace Tessera.Kernels.Elementwise;

/// <summary>Identity: the output is the input tensor itself (tensors are immutable once produced, so no copy).</summary>
internal sealed class IdentityKernel : IKernel
{
    public void Compute(KernelContext context) => context.SetOutput(0, context.RequiredInput(0));
}
