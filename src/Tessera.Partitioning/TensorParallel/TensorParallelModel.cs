using System.Globalization;
using System.Text;
using Tessera.Kernels.Collective;
using Tessera.Onnx.Graph;

namespace Tessera.Partitioning.TensorParallel;

/// <summary>The result of <see cref="TensorParallelRewriter.Rewrite"/>: one shard per rank, and what was split how.</summary>
public sealed class TensorParallelModel
{
    internal TensorParallelModel(int degree, IReadOnlyList<OnnxModel> shards, IReadOnlyList<TensorParallelSplit> splits,
        IReadOnlyList<TensorParallelBlock> blocks, IReadOnlyList<ReplicatedLayer> replicated, IReadOnlyList<TensorParallelCollective> collectives,
        long originalParameterBytes)
    {
        Collectives = collectives;
        Degree = degree;
        Shards = shards;
        Splits = splits;
        Blocks = blocks;
        Replicated = replicated;
        OriginalParameterBytes = originalParameterBytes;
        ParameterBytesPerShard = shards.Select(s => s.Graph.ParameterBytes).ToArray();
        var first = shards[0].Graph.Nodes;
        AllReducesPerRun = first.Count(n => n.Domain == Kernels.Core.TesseraDomain.Name && n.OpType == CollectiveKernels.AllReduce);
        AllGathersPerRun = first.Count(n => n.Domain == Kernels.Core.TesseraDomain.Name && n.OpType == CollectiveKernels.AllGather);
    }

    public int Degree { get; }

    /// <summary>The shard of each rank (index = rank): standalone models with a com.tessera opset import.</summary>
    public IReadOnlyList<OnnxModel> Shards { get; }

    /// <summary>Every split layer, in graph order.</summary>
    public IReadOnlyList<TensorParallelSplit> Splits { get; }

    /// <summary>The blocks (pairings) of split layers, in graph order.</summary>
    public IReadOnlyList<TensorParallelBlock> Blocks { get; }

    /// <summary>Layers with a constant weight that stay whole on every rank, with the reason.</summary>
    public IReadOnlyList<ReplicatedLayer> Replicated { get; }

    /// <summary>The collectives each rank runs per inference, in graph order.</summary>
    public IReadOnlyList<TensorParallelCollective> Collectives { get; }

    /// <summary>AllReduce operators each rank runs per inference.</summary>
    public int AllReducesPerRun { get; }

    /// <summary>AllGather operators each rank runs per inference.</summary>
    public int AllGathersPerRun { get; }

    /// <summary>Bytes of constant tensors in each shard (index = rank).</summary>
    public IReadOnlyList<long> ParameterBytesPerShard { get; }

    public long OriginalParameterBytes { get; }

    /// <summary>A human-readable account: one line per block, replicated layers with reasons, collectives and parameter bytes.</summary>
    public string Describe()
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"tensor parallel, degree {Degree}: {Splits.Count} layers split in {Blocks.Count} blocks, {Replicated.Count} replicated");
        foreach (var block in Blocks)
        {
            string heads = block.Heads > 0 ? $" ({block.Heads} heads, {block.Heads / Degree} per rank)" : string.Empty;
            string collectives = string.Join(", ", new[] { (block.AllReduces, "AllReduce"), (block.AllGathers, "AllGather") }
                .Where(p => p.Item1 > 0).Select(p => $"{p.Item1} {p.Item2}"));
            text.AppendLine(c, $"  block {block.Index} {Name(block.Kind)}{heads}: {collectives}");
            foreach (var split in Splits.Where(s => s.Block == block.Index))
            {
                text.AppendLine(c, $"    {split.NodeName}: {Name(split.Kind)} [{split.K}x{split.N}] -> [{split.ShardK}x{split.ShardN}] per rank");
            }

            if (block.Note.Length > 0)
            {
                text.AppendLine(c, $"    ({block.Note})");
            }
        }

        foreach (var layer in Replicated)
        {
            text.AppendLine(c, $"  replicated {layer.NodeName}: {layer.Reason}");
        }

        text.AppendLine(c, $"per run and rank: {AllReducesPerRun} AllReduce, {AllGathersPerRun} AllGather");
        text.Append(c, $"parameters: {OriginalParameterBytes} bytes whole; per shard {string.Join(", ", ParameterBytesPerShard)} bytes");
        return text.ToString();
    }

    private static string Name(TensorParallelBlockKind kind) => kind switch
    {
        TensorParallelBlockKind.Mlp => "mlp",
        TensorParallelBlockKind.Attention => "attention",
        TensorParallelBlockKind.Column => "column",
        _ => "row",
    };

    private static string Name(TensorParallelSplitKind kind) => kind switch
    {
        TensorParallelSplitKind.Column => "columns",
        TensorParallelSplitKind.Heads => "heads",
        _ => "rows",
    };
}
