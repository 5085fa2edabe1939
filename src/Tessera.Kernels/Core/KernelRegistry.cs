namespace Tessera.Kernels.Core;

/// <summary>
/// Kernel factories keyed by (domain, operator type, since-version). A node resolves to the registration with
/// the highest since-version not above the model's opset for its domain, as ONNX versioning prescribes.
/// </summary>
public sealed class KernelRegistry
{
    private readonly Dictionary<(string Domain, string OpType), List<(int SinceVersion, KernelFactory Factory)>> _entries = new();

    /// <summary>The registry with every kernel Tessera ships.</summary>
    public static KernelRegistry Default { get; } = CreateDefault();

    public static KernelRegistry CreateDefault()
    {
        var registry = new KernelRegistry();
        Elementwise.ElementwiseKernels.Register(registry);
        Linear.LinearKernels.Register(registry);
        Convolution.ConvolutionKernels.Register(registry);
        Pooling.PoolingKernels.Register(registry);
        Normalization.NormalizationKernels.Register(registry);
        Reduction.ReductionKernels.Register(registry);
        Layout.LayoutKernels.Register(registry);
        Indexing.IndexingKernels.Register(registry);
        Resize.ResizeKernels.Register(registry);
        Fused.FusedKernels.Register(registry);
        Collective.CollectiveKernels.Register(registry);
        Quantization.QuantizationKernels.Register(registry);
        return registry;
    }

    public void Register(string opType, int sinceVersion, KernelFactory factory) => Register(string.Empty, opType, sinceVersion, factory);

    public void Register(string domain, string opType, int sinceVersion, KernelFactory factory)
    {
        var key = (domain, opType);
        if (!_entries.TryGetValue(key, out var list))
        {
            _entries[key] = list = [];
        }

        if (list.Any(e => e.SinceVersion == sinceVersion))
        {
            throw new InvalidOperationException($"{opType} since version {sinceVersion} is registered twice");
        }

        list.Add((sinceVersion, factory));
        list.Sort((a, b) => a.SinceVersion.CompareTo(b.SinceVersion));
    }

    public bool TryResolve(string domain, string opType, int opsetVersion, out KernelFactory factory)
    {
        factory = null!;
        if (!_entries.TryGetValue((domain, opType), out var list))
        {
            return false;
        }

        for (int i = list.Count - 1; i >= 0; i--)
        {
            if (list[i].SinceVersion <= opsetVersion)
            {
                factory = list[i].Factory;
                return true;
            }
        }

        return false;
    }

    public bool Supports(string domain, string opType, int opsetVersion) => TryResolve(domain, opType, opsetVersion, out _);

    /// <summary>Every registered (domain, operator) pair, for `tessera inspect` and documentation.</summary>
    public IEnumerable<(string Domain, string OpType)> Operators => _entries.Keys.OrderBy(k => k.Domain).ThenBy(k => k.OpType);
}
