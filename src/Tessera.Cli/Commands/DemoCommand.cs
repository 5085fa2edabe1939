using System.CommandLine;
using System.Globalization;
using Tessera.Cli.Common;
using Tessera.Cli.Ocr;
using Tessera.Engine;

namespace Tessera.Cli.Commands;

/// <summary>
/// `tessera demo`: the main job — draws lines of Chinese and English text on pages (or takes a picture of the
/// user's), starts local worker processes and reads the text with the PaddleOCR PP-OCRv4 models: detection
/// pipelined across the workers, orientation and recognition with batches split over them, every output checked
/// bit for bit against one process. Prints each line read beside the line drawn and the character accuracy.
/// </summary>
internal static class DemoCommand
{
    private const int PageWidth = 960;
    private const int PageHeight = 640;
    private const float TextSize = 30;

    public static Command Create()
    {
        var shared = new OcrOptions(defaultWorkers: 2);
        var image = new Option<string?>("--image") { Description = "a PNG or JPEG picture of your own to read instead of the drawn pages" };
        var font = new Option<string?>("--font") { Description = "font file to draw the pages with (default: Debian's fonts-wqy-zenhei, installed on first use)" };
        var pagesDir = new Option<string?>("--pages-dir") { Description = "where to write the drawn pages as PNG (default: .cache/demo/pages)" };
        var command = new Command("demo", "Read text with the PP-OCRv4 models on local workers: drawn pages, or --image (installs models and font on first use)")
        {
            image, font, pagesDir,
        };
        foreach (var option in shared.All) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var (workerCount, threadCount) = shared.Counts(parse);
            string? picture = parse.GetValue(image);
            var pictureImage = picture is null ? null : ImageFile.Read(picture);
            var files = OcrModelFiles.Find(parse.GetValue(shared.Models));
            var (pages, drawn) = pictureImage is null ? DrawPages(parse.GetValue(font), parse.GetValue(pagesDir)) : ([pictureImage], []);
            RunAsync(files, pages, drawn, workerCount, threadCount).GetAwaiter().GetResult();
            return 0;
        });
        return command;
    }

    private static (RgbImage[] Pages, RenderedLine[] Lines) DrawPages(string? fontFile, string? pagesDir)
    {
        string font = TextFont.Find(fontFile);
        var (pages, lines) = PageRenderer.Render(DemoText.Pages, font, PageWidth, PageHeight, TextSize);
        string home = Environment.GetEnvironmentVariable("TESSERA_HOME") ?? Directory.GetCurrentDirectory();
        string dir = pagesDir ?? Path.Combine(home, ".cache", "demo", "pages");
        Directory.CreateDirectory(dir);
        for (int i = 0; i < pages.Length; i++) ImageFile.Write(pages[i], Path.Combine(dir, $"page-{i + 1}.png"));
        Console.WriteLine($"drew {lines.Length} lines on {pages.Length} pages of {PageWidth}x{PageHeight} in {Path.GetFileName(font)} (written to {dir}/page-*.png)");
        return (pages, lines);
    }

    private static async Task RunAsync(OcrModelFiles files, RgbImage[] pages, RenderedLine[] drawn, int workers, int threads)
    {
        LocalCluster? cluster = null;
        if (workers > 0)
        {
            Console.WriteLine($"starting {workers} local worker process(es) of {threads} thread(s) ...");
            cluster = await LocalCluster.StartAsync(workers, threads).ConfigureAwait(false);
            Console.WriteLine($"workers: {string.Join(", ", cluster.Addresses)}");
        }

        try
        {
            var local = new LocalOcrRunner(files, new SessionOptions { Threads = threads });
            await using var spread = cluster is null ? null : new ClusterOcrRunner(cluster, files, local, Console.WriteLine);
            IOcrModelRunner runner = spread ?? (IOcrModelRunner)new TimedOcrRunner(local, files, Console.WriteLine);
            var result = await new OcrPipeline(runner, CtcDecoder.Load(files.Dictionary), new DbSettings()).ReadAsync(pages).ConfigureAwait(false);
            Console.WriteLine($"{result.Boxes} text boxes found, {result.TurnedOver} turned upright by the orientation model, {result.Dropped} dropped as unreadable (confidence < 0.5)");
            if (drawn.Length == 0)
            {
                PrintRead(result);
            }
            else
            {
                PrintComparison(drawn, result);
            }
        }
        finally
        {
            if (cluster is not null) await cluster.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static void PrintRead(OcrResult result)
    {
        foreach (var line in result.Images[0])
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {line.Confidence:F3}  {line.Text}{(line.TurnedOver ? "   (was upside down)" : "")}"));
        }

        Console.WriteLine("(no character accuracy for a picture of your own: there is no text to compare with)");
    }

    private static void PrintComparison(RenderedLine[] drawn, OcrResult result)
    {
        var (pairs, extra) = LineMatcher.Match(drawn, result);
        int column = Math.Max("drawn".Length, pairs.Max(p => TerminalColumns.Width(p.Line.Text))) + 2;
        Console.WriteLine($"  {TerminalColumns.PadRight("drawn", column)}read");
        int edits = 0, characters = 0;
        foreach (var (line, read) in pairs)
        {
            int distance = CharacterAccuracy.Distance(line.Text, read);
            edits += distance;
            characters += CharacterAccuracy.Length(line.Text);
            string note = (line.UpsideDown ? "  (drawn upside down)" : "") + (distance > 0 ? $"  ({distance} edit{(distance == 1 ? "" : "s")})" : "");
            Console.WriteLine($"  {TerminalColumns.PadRight(line.Text, column)}{read}{note}");
        }

        foreach (var line in extra)
        {
            edits += CharacterAccuracy.Length(line.Text);
            Console.WriteLine($"  {TerminalColumns.PadRight("(nothing drawn here)", column)}{line.Text}");
        }

        double accuracy = characters == 0 ? 0 : Math.Max(0, 1 - (double)edits / characters);
        // Two decimals, rounded down: 1.00 only when every character was read.
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"character accuracy: {Math.Floor(accuracy * 100) / 100:F2} ({edits} edit{(edits == 1 ? "" : "s")} over {characters} characters in {pairs.Length} lines)"));
    }
}
