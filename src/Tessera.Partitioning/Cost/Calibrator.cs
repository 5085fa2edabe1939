using System.Diagnostics;
using Tessera.Engine;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Partitioning.Cost;

/// <summary>
/// Measures this machine's rate per operator family by running one small synthetic graph per family through an
/// <see cref="InferenceSession"/>: a chain of matrix products, of 3x3 convolutions, of Adds, of attention-head Transposes, and of
/// tiny Relus for the fixed cost per node. Each graph runs a few times after a warm-up; the median counts.
/// </summary>
public static class Calibrator
{
    private const int Chain = 8;

    public static CalibrationProfile Measure(int threads, int repetitions = 5)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), "calibrate with 1 thread or more");
        var options = new SessionOptions { Threads = threads };

        // Overhead first: it is subtracted from the other measurements' per-node time.
        double overhead = Median(Chained("Relu", [16], 4 * Chain), options, repetitions) / (4 * Chain);
        double PerNode(OnnxModel model) => Math.Max(Median(model, options, repetitions) / Chain - overhead, 1e-9);

        const int n = 256;
        double gemm = 2.0 * n * n * n / PerNode(MatMulChain(n));
        const int c = 32, hw = 56;
        double conv = 2.0 * hw * hw * c * c * 9 / PerNode(ConvChain(c, hw));
        // The 4 MiB Adds (4.4 GB/s on this machine) land near the rates of the LayerNorms and softmaxes that take most of
        // a transformer's elementwise time (4-15 GB/s in `tessera bench --profile` of GPT and BERT b8 s128); Adds of a
        // cache-sized 512 KiB ran at 43-52 GB/s, too fast for those. Data movement is the transpose models run (attention's
        // heads to the front, rows of a head's width, 512 KiB): 28-35 GB/s, as their Transposes and Splits measured
        // (10-40), where a 1024x1024 transpose measured 2.0 (issue 19).
        const int elements = 1 << 20;
        double elementwise = 3.0 * elements * 4 / PerNode(Chained("Add", [elements], Chain, binary: true));
        double movement = 2.0 * 8 * 128 * 4 * 32 * 4 / PerNode(HeadTransposeChain(8, 128, 4, 32));

        return new CalibrationProfile
        {
            Source = Environment.MachineName,
            Threads = threads,
            MatrixProductFlopsPerSecond = Round(gemm),
            ConvolutionFlopsPerSecond = Round(conv),
            ElementwiseBytesPerSecond = Round(elementwise),
            DataMovementBytesPerSecond = Round(movement),
            NodeOverheadSeconds = Round(overhead),
        };
    }

    /// <summary>
    /// A quick measure of this machine's matrix-product rate (flop/s) on <paramref name="threads"/> threads: a chain
    /// of 256×256 products, median of a few runs, tens of milliseconds in all. Workers report it as their speed.
    /// </summary>
    public static double MatrixProductRate(int threads, int repetitions = 5)
    {
        const int n = 256;
        return 2.0 * n * n * n * Chain / Median(MatMulChain(n), new SessionOptions { Threads = threads }, repetitions);
    }

    private static double Round(double value) => double.Parse(value.ToString("G4", System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);

    private static double Median(OnnxModel model, SessionOptions options, int repetitions)
    {
        var session = new InferenceSession(model, options);
        var feeds = model.Graph.Inputs.ToDictionary(i => i.Name, i => Random(i.Shape!.Select(d => (int)d.Value!.Value).ToArray()), StringComparer.Ordinal);
        session.Run(feeds);
        var times = new double[repetitions];
        for (int r = 0; r < repetitions; r++)
        {
            var clock = Stopwatch.StartNew();
            session.Run(feeds);
            times[r] = clock.Elapsed.TotalSeconds;
        }

        Array.Sort(times);
        return times[repetitions / 2];
    }

    private static Tensor Random(int[] shape)
    {
        var rng = new Random(1234);
        var data = new float[ShapeMath.ElementCount(shape)];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() - 0.5);
        return Tensor.FromArray(data, shape);
    }

    private static OnnxModel Model(OnnxGraph graph) => new() { Graph = graph, OpsetImports = { [""] = 17 }, ProducerName = "tessera-calibrate" };

    private static ValueInfo Info(string name, params int[] shape) =>
        new() { Name = name, ElementType = DataType.Float32, Shape = shape.Select(d => Dimension.Known(d)).ToArray() };

    private static OnnxNode Node(string op, string output, params string[] inputs)
    {
        var node = new OnnxNode { OpType = op, Name = output };
        node.Inputs.AddRange(inputs);
        node.Outputs.Add(output);
        return node;
    }

    private static OnnxModel Chained(string op, int[] shape, int length, bool binary = false)
    {
        var graph = new OnnxGraph { Name = op };
        graph.Inputs.Add(Info("x", shape));
        if (binary) graph.Inputs.Add(Info("b", shape));
        string last = "x";
        for (int i = 0; i < length; i++)
        {
            graph.Nodes.Add(binary ? Node(op, $"v{i}", last, "b") : Node(op, $"v{i}", last));
            last = $"v{i}";
        }

        graph.Outputs.Add(Info(last, shape));
        return Model(graph);
    }

    private static OnnxModel MatMulChain(int n)
    {
        var graph = new OnnxGraph { Name = "matmul" };
        graph.Inputs.Add(Info("x", n, n));
        string last = "x";
        for (int i = 0; i < Chain; i++)
        {
            graph.Initializers[$"w{i}"] = Random([n, n]);
            graph.Nodes.Add(Node("MatMul", $"v{i}", last, $"w{i}"));
            last = $"v{i}";
        }

        graph.Outputs.Add(Info(last, n, n));
        return Model(graph);
    }

    private static OnnxModel ConvChain(int channels, int hw)
    {
        var graph = new OnnxGraph { Name = "conv" };
        graph.Inputs.Add(Info("x", 1, channels, hw, hw));
        string last = "x";
        for (int i = 0; i < Chain; i++)
        {
            graph.Initializers[$"w{i}"] = Random([channels, channels, 3, 3]);
            var node = Node("Conv", $"v{i}", last, $"w{i}");
            node.Attributes["pads"] = new NodeAttribute { Name = "pads", Kind = AttributeKind.Ints, Ints = [1, 1, 1, 1] };
            graph.Nodes.Add(node);
            last = $"v{i}";
        }

        graph.Outputs.Add(Info(last, 1, channels, hw, hw));
        return Model(graph);
    }

    /// <summary>[batch, sequence, heads, width] to [batch, heads, sequence, width] and back, alternately.</summary>
    private static OnnxModel HeadTransposeChain(int batch, int sequence, int heads, int width)
    {
        var graph = new OnnxGraph { Name = "transpose" };
        graph.Inputs.Add(Info("x", batch, sequence, heads, width));
        string last = "x";
        for (int i = 0; i < Chain; i++)
        {
            var node = Node("Transpose", $"v{i}", last);
            node.Attributes["perm"] = new NodeAttribute { Name = "perm", Kind = AttributeKind.Ints, Ints = [0, 2, 1, 3] };
            graph.Nodes.Add(node);
            last = $"v{i}";
        }

        graph.Outputs.Add(Info(last, batch, sequence, heads, width));
        return Model(graph);
    }
}
