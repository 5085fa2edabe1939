using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Tessera.Cli.Common;
using Tessera.Cli.Ocr;
using Tessera.Engine;

namespace Tessera.Cli.Commands;

/// <summary>
/// `tessera ocr IMAGE...`: reads the text in PNG and JPEG pictures with the PP-OCRv4 models, in this process or on
/// local workers (as the demo distributes them); prints each line with its confidence and box, or JSON.
/// </summary>
internal static class OcrCommand
{
    public static Command Create()
    {
        var images = new Argument<string[]>("IMAGE") { Description = "PNG or JPEG files", Arity = ArgumentArity.OneOrMore };
        var shared = new OcrOptions(defaultWorkers: 0);
        var json = new Option<bool>("--json") { Description = "print the lines as JSON" };
        var command = new Command("ocr", "Read the text in pictures with the PP-OCRv4 models") { images, json };
        foreach (var option in shared.All) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var (workerCount, threadCount) = shared.Counts(parse);
            string[] paths = parse.GetValue(images)!;
            var pictures = paths.Select(ImageFile.Read).ToArray();
            var files = OcrModelFiles.Find(parse.GetValue(shared.Models));
            var result = ReadAsync(files, pictures, workerCount, threadCount).GetAwaiter().GetResult();
            if (parse.GetValue(json))
            {
                WriteJson(paths, pictures, result);
            }
            else
            {
                WriteText(paths, pictures, result);
            }

            return 0;
        });
        return command;
    }

    private static async Task<OcrResult> ReadAsync(OcrModelFiles files, RgbImage[] pictures, int workers, int threads)
    {
        var decoder = CtcDecoder.Load(files.Dictionary);
        var local = new LocalOcrRunner(files, new SessionOptions { Threads = threads });
        if (workers == 0)
        {
            return await new OcrPipeline(local, decoder, new DbSettings()).ReadAsync(pictures).ConfigureAwait(false);
        }

        Console.Error.WriteLine($"starting {workers} local worker process(es) of {threads} thread(s) ...");
        await using var cluster = await LocalCluster.StartAsync(workers, threads).ConfigureAwait(false);
        await using var runner = new ClusterOcrRunner(cluster, files, reference: null, Console.Error.WriteLine);
        return await new OcrPipeline(runner, decoder, new DbSettings()).ReadAsync(pictures).ConfigureAwait(false);
    }

    private static void WriteText(string[] paths, RgbImage[] pictures, OcrResult result)
    {
        for (int i = 0; i < paths.Length; i++)
        {
            var lines = result.Images[i];
            Console.WriteLine($"{paths[i]} ({pictures[i].Width}x{pictures[i].Height}): {lines.Count} line{(lines.Count == 1 ? "" : "s")}");
            foreach (var line in lines)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {line.Confidence:F3}  {line.Box}  {line.Text}{(line.TurnedOver ? "  (was upside down)" : "")}"));
            }
        }
    }

    private static void WriteJson(string[] paths, RgbImage[] pictures, OcrResult result)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var json = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteStartArray("images");
            for (int i = 0; i < paths.Length; i++)
            {
                json.WriteStartObject();
                json.WriteString("file", paths[i]);
                json.WriteNumber("width", pictures[i].Width);
                json.WriteNumber("height", pictures[i].Height);
                json.WriteStartArray("lines");
                foreach (var line in result.Images[i])
                {
                    json.WriteStartObject();
                    json.WriteString("text", line.Text);
                    json.WriteNumber("confidence", Math.Round(line.Confidence, 4));
                    json.WriteStartArray("box");
                    for (int c = 0; c < 4; c++)
                    {
                        json.WriteStartArray();
                        json.WriteNumberValue(line.Box[c].X);
                        json.WriteNumberValue(line.Box[c].Y);
                        json.WriteEndArray();
                    }

                    json.WriteEndArray();
                    json.WriteBoolean("turnedOver", line.TurnedOver);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        stdout.WriteByte((byte)'\n');
    }
}
