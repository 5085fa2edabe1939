using System.Diagnostics;
using System.Globalization;
using Tessera.Tensors;

namespace Tessera.Cli.Ocr;

/// <summary>Runs the models in this process and reports each run's input and time.</summary>
internal sealed class TimedOcrRunner(LocalOcrRunner inner, OcrModelFiles files, Action<string> report) : IOcrModelRunner
{
    public async Task<Tensor> RunAsync(OcrModel model, Tensor input)
    {
        var clock = Stopwatch.StartNew();
        var output = await inner.RunAsync(model, input).ConfigureAwait(false);
        report(string.Create(CultureInfo.InvariantCulture,
            $"{model.ToString().ToLowerInvariant(),-12} {Path.GetFileName(files.PathOf(model))} {ShapeMath.Format(input.Shape)}: one process {clock.Elapsed.TotalMilliseconds:F0} ms"));
        return output;
    }
}
