using System.Text.Json;
using Tessera.Cli.Ocr;
using Tessera.Tests.Cli.Ocr;
using Tessera.Tests.Support;

namespace Tessera.Tests.Cli;

/// <summary>`tessera ocr` on pictures of drawn text, in this process and on local workers, and on files that are not pictures.</summary>
public sealed class OcrCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tessera-ocr-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ReadsTheLinesOfPngAndJpegPicturesTheSameInProcessAndOnWorkers()
    {
        var (pages, drawn) = PageRenderer.Render(DemoText.Pages, TextFont.Find(null), 960, 640, 30);
        string png = Path.Combine(_dir, "page-1.png"), jpeg = Path.Combine(_dir, "page-2.jpg");
        ImageFile.Write(pages[0], png);
        ImageFile.Write(pages[1], jpeg);

        var alone = CliProcess.Run("ocr", png, jpeg, "--models", PaddleReference.ModelsFolder, "--json");
        Assert.True(alone.ExitCode == 0, alone.Stderr + alone.Stdout);
        using var json = JsonDocument.Parse(alone.Stdout);
        var images = json.RootElement.GetProperty("images").EnumerateArray().ToArray();
        Assert.Equal(2, images.Length);
        Assert.Equal(960, images[0].GetProperty("width").GetInt32());
        int edits = 0, characters = 0;
        for (int page = 0; page < 2; page++)
        {
            var read = images[page].GetProperty("lines").EnumerateArray().Select(l => l.GetProperty("text").GetString()!).ToArray();
            var truth = drawn.Where(d => d.Page == page).Select(d => d.Text).ToArray();
            Assert.Equal(truth.Length, read.Length);
            for (int i = 0; i < truth.Length; i++)
            {
                edits += CharacterAccuracy.Distance(truth[i], read[i]);
                characters += CharacterAccuracy.Length(truth[i]);
            }
        }

        Assert.True(1 - (double)edits / characters >= 0.95, alone.Stdout);
        var box = images[0].GetProperty("lines")[0].GetProperty("box");
        Assert.Equal(4, box.GetArrayLength());

        var spread = CliProcess.Run("ocr", png, jpeg, "--models", PaddleReference.ModelsFolder, "--json", "--workers", "2", "--threads", "1");
        Assert.True(spread.ExitCode == 0, spread.Stderr + spread.Stdout);
        Assert.Equal(alone.Stdout, spread.Stdout);
        Assert.Contains("pipeline of 2 stages", spread.Stderr);

        var text = CliProcess.Run("ocr", png, "--models", PaddleReference.ModelsFolder);
        Assert.True(text.ExitCode == 0, text.Stderr + text.Stdout);
        Assert.StartsWith($"{png} (960x640): 4 lines", text.Stdout);
        Assert.Contains("深度学习模型的分布式推理", text.Stdout);
    }

    [Fact]
    public void FilesThatAreNotPicturesFailInOneLineEach()
    {
        var (pages, _) = PageRenderer.Render([[("深度学习", false)]], TextFont.Find(null), 320, 128, 30);
        string good = Path.Combine(_dir, "good.png");
        ImageFile.Write(pages[0], good);
        string truncated = Path.Combine(_dir, "truncated.png");
        byte[] bytes = File.ReadAllBytes(good);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        string text = Path.Combine(_dir, "notes.png");
        File.WriteAllText(text, "hello");
        string gif = Path.Combine(_dir, "dot.gif");
        File.WriteAllBytes(gif, Convert.FromBase64String("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"));
        string empty = Path.Combine(_dir, "empty.jpg");
        File.WriteAllBytes(empty, []);

        foreach (var (file, message) in new[]
        {
            (Path.Combine(_dir, "missing.png"), "no such file"),
            (_dir, "is a folder, not an image"),
            (truncated, "the Png data cannot be decoded (truncated or corrupt)"),
            (text, "not a PNG or JPEG image"),
            (gif, "a Gif image; only PNG and JPEG are read"),
            (empty, "not a PNG or JPEG image"),
        })
        {
            var result = CliProcess.Run("ocr", good, file, "--models", PaddleReference.ModelsFolder);
            Assert.True(result.ExitCode != 0, file);
            Assert.StartsWith($"tessera: {file}: {message}", result.Stderr);
            Assert.Single(result.Stderr.Trim().Split('\n'));
            Assert.Equal("", result.Stdout); // checked before anything is read: nothing half-done
        }
    }
}
