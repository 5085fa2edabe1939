using Tessera.Onnx.Graph;

namespace Tessera.Engine.Optimization;

/// <summary>
/// Rewrites a model for faster execution with a flat list of named passes, run in order; each pass repeats
/// until it finds nothing more, and the list repeats while any pass changed the graph. The caller's model is
/// never changed. Set <see cref="SessionOptions.LogPasses"/> or TESSERA_LOG_PASSES=1 to print every rewrite.
/// </summary>
public static class GraphOptimizer
{
    private const int MaxRounds = 4;
    private const int MaxSweepsPerPass = 64;

    // Order matters: removing no-ops and folding affine layers first exposes the patterns later passes fuse; the
    // quantized patterns go first, before MatMul + Add becomes Gemm or FusedMatMul and hides them;
    // activation fusion comes after them so it sees the fused matrix products and GELUs; the channel-block layout is
    // chosen last, on the fused convolutions that will run.
    private static readonly IGraphPass[] s_passes =
    [
        new IdentityEliminationPass(),
        new QdqFusionPass(),
        new DynamicQuantizedMatMulFusionPass(),
        new SharedInputQuantizedMatMulFusionPass(),
        new QuantizedMatMulSplitFusionPass(),
        new ConvAffineFoldingPass(),
        new MatMulAddToGemmPass(),
        new HardSwishFusionPass(),
        new GeluFusionPass(),
        new LayerNormFusionPass(),
        new ScaleMaskSoftmaxFusionPass(),
        new SoftmaxRangeFusionPass(),
        new QuantizedMatMulTransposeFusionPass(),
        new CausalAttentionPass(),
        new MatMulBiasFusionPass(),
        new ResidualAddFusionPass(),
        new ActivationFusionPass(),
        new DeadNodeEliminationPass(),
        new ChannelBlockLayoutPass(),
    ];

    /// <summary>The passes in the order they run, for documentation and `tessera inspect`.</summary>
    public static IEnumerable<(string Name, GraphOptimizationLevel Level)> Passes => s_passes.Select(p => (p.Name, p.Level));

    public static OnnxModel Optimize(OnnxModel model, SessionOptions options)
    {
        var level = options.GraphOptimization;
        if (level == GraphOptimizationLevel.None) return model;

        bool log = options.LogPasses || Environment.GetEnvironmentVariable("TESSERA_LOG_PASSES") == "1";
        var disabled = new HashSet<string>(options.DisabledPasses, StringComparer.Ordinal);
        disabled.UnionWith((Environment.GetEnvironmentVariable("TESSERA_DISABLE_PASSES") ?? string.Empty)
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        // A misspelt name would silently leave the pass on and make an A/B run compare a graph with itself.
        if (disabled.FirstOrDefault(name => !s_passes.Any(p => p.Name == name)) is { } unknown)
        {
            throw new InferenceException($"no graph pass is named '{unknown}' (disabled passes come from SessionOptions.DisabledPasses and TESSERA_DISABLE_PASSES); the passes are: {string.Join(", ", s_passes.Select(p => p.Name))}");
        }

        var editor = new GraphEditor(model, options.Registry, log ? Console.Error : null);
        int before = editor.Nodes.Count;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var elapsed = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        for (int round = 0; round < MaxRounds; round++)
        {
            int changes = editor.ChangeCount;
            foreach (var pass in s_passes.Where(p => p.Level <= level && !disabled.Contains(p.Name)))
            {
                editor.PassName = pass.Name;
                var start = clock.Elapsed;
                for (int sweep = 0; sweep < MaxSweepsPerPass && pass.Apply(editor); sweep++)
                {
                }

                elapsed[pass.Name] = elapsed.GetValueOrDefault(pass.Name) + (clock.Elapsed - start);
            }

            if (editor.ChangeCount == changes) break;
        }

        editor.PruneInitializers();
        string times = string.Join(", ", elapsed.Select(e => $"{e.Key} {e.Value.TotalMilliseconds:F1}"));
        editor.WriteSummary($"graph optimization ({level}): {before} → {editor.Nodes.Count} nodes, {editor.ChangeCount} rewrites in {clock.Elapsed.TotalMilliseconds:F0} ms ({times})");
        return editor.Model;
    }
}
