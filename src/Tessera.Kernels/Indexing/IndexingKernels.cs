using Tessera.Kernels.Core;

namespace Tessera.Kernels.Indexing;

/// <summary>Registers the Indexing operator family.</summary>
public static class IndexingKernels
{
    public static void Register(KernelRegistry registry)
    {
        _ = registry;
    }
}
