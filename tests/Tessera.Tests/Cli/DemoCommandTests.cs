using Tessera.Tests.Support;
using Xunit;

namespace Tessera.Tests.Cli;

/// <summary>The README's main job, end to end: `tessera demo` on two local worker processes it starts itself.</summary>
public sealed class DemoCommandTests
{
    [Fact]
    public void DemoRunsTheOcrModelsOnLocalWorkersBitIdenticallyToOneProcess()
    {
        string models = TestPaths.Require(Path.Combine(TestPaths.Cache, "npm", "node_modules", "@gutenye", "ocr-models", "assets"));
        var result = CliProcess.Run("demo", "--models", models, "--workers", "2", "--threads", "1");
        Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);
        Assert.Contains("starting 2 local worker process(es)", result.Stdout);
        Assert.Contains("pipeline of 2 stages: local-0 -> local-1", result.Stdout);
        Assert.Equal(3, result.Stdout.Split('\n').Count(l => l.Contains("outputs bit-identical to one process", StringComparison.Ordinal)));
        Assert.Contains("text probability maps [2,1,640,640]", result.Stdout);
        Assert.Contains("character distributions [8,40,6625]", result.Stdout);
    }

    [Fact]
    public void DemoWithoutModelsAtTheGivenFolderFailsInOneLine()
    {
        var result = CliProcess.Run("demo", "--models", "/nonexistent-models", "--workers", "0");
        Assert.NotEqual(0, result.ExitCode);
        Assert.StartsWith("tessera: ", result.Stderr);
        Assert.Single(result.Stderr.Trim().Split('\n'));
    }
}
