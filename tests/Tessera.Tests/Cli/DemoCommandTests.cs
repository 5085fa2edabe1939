using System.Globalization;
using System.Text.RegularExpressions;
using Tessera.Tests.Cli.Ocr;
using Tessera.Tests.Support;
using Xunit;

namespace Tessera.Tests.Cli;

/// <summary>The README's main job, end to end: `tessera demo` on two local worker processes it starts itself.</summary>
public sealed partial class DemoCommandTests
{
    [Fact]
    public void DemoReadsTheDrawnLinesOnLocalWorkersBitIdenticallyToOneProcess()
    {
        string pages = Directory.CreateTempSubdirectory("tessera-demo-pages-").FullName;
        try
        {
            var result = CliProcess.Run("demo", "--models", PaddleReference.ModelsFolder, "--workers", "2", "--threads", "1", "--pages-dir", pages);
            Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);
            Assert.Contains("starting 2 local worker process(es)", result.Stdout);
            Assert.Contains("pipeline of 2 stages: local-0 -> local-1", result.Stdout);
            Assert.Contains("data parallel: the batch split over", result.Stdout);
            // Detection, orientation and at least one recognition batch, each checked against one process.
            Assert.True(result.Stdout.Split('\n').Count(l => l.Contains("outputs bit-identical to one process", StringComparison.Ordinal)) >= 3, result.Stdout);
            Assert.Contains("  深度学习模型的分布式推理", result.Stdout);
            var accuracy = Accuracy().Match(result.Stdout);
            Assert.True(accuracy.Success, result.Stdout);
            Assert.True(double.Parse(accuracy.Groups[1].Value, CultureInfo.InvariantCulture) >= 0.95, result.Stdout);
            Assert.True(File.Exists(Path.Combine(pages, "page-1.png")) && File.Exists(Path.Combine(pages, "page-2.png")));

            // A person's own picture: here the first drawn page, read in this process.
            var own = CliProcess.Run("demo", "--models", PaddleReference.ModelsFolder, "--workers", "0", "--image", Path.Combine(pages, "page-1.png"));
            Assert.True(own.ExitCode == 0, own.Stderr + own.Stdout);
            Assert.Contains("深度学习模型的分布式推理", own.Stdout);
            Assert.Contains("data parallel, pipeline parallel, tensor parallel", own.Stdout);
            Assert.DoesNotContain("character accuracy:", own.Stdout);
        }
        finally
        {
            Directory.Delete(pages, recursive: true);
        }
    }

    [Fact]
    public void DemoWithoutModelsAtTheGivenFolderFailsInOneLine()
    {
        var result = CliProcess.Run("demo", "--models", "/nonexistent-models", "--workers", "0");
        Assert.NotEqual(0, result.ExitCode);
        Assert.StartsWith("tessera: ", result.Stderr);
        Assert.Single(result.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void DemoWithAPictureThatIsNotOneFailsInOneLine()
    {
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "not a picture");
            var result = CliProcess.Run("demo", "--models", PaddleReference.ModelsFolder, "--workers", "0", "--image", file);
            Assert.NotEqual(0, result.ExitCode);
            Assert.Equal($"tessera: {file}: not a PNG or JPEG image", result.Stderr.Trim());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [GeneratedRegex(@"^character accuracy: (\d\.\d\d) ", RegexOptions.Multiline)]
    private static partial Regex Accuracy();
}
