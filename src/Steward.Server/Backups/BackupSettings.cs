using System.Globalization;
using Steward.Backup.Filters.Age;
using Steward.Backup.Filters.Gzip;
using Steward.Backup.Filters.Zstd;
using Steward.Backup.Pipeline;
using Steward.Backup.Storage.FileSystem;
using Steward.Backup.Storage.S3;
using Steward.Security;
using Steward.Server.Configuration;

namespace Steward.Server.Backups;

/// <summary>
/// How backups are made and where they go, from environment variables with embedded defaults: zstd level 3,
/// age encryption to the broker's own key (plus any STEWARD_BACKUP_RECIPIENTS), stored under
/// &lt;data&gt;/backups, or in S3-compatible storage when STEWARD_BACKUP_S3_BUCKET is set.
/// </summary>
internal sealed class BackupSettings
{
    private BackupSettings(string compression, int zstdLevel, bool encrypt, IReadOnlyList<AgeRecipient> recipients, IReadOnlyList<AgeIdentity> identities, FileSystemStorageOptions? fileSystem, S3StorageOptions? s3, string identityFile)
    {
        Compression = compression;
        ZstdLevel = zstdLevel;
        Encrypt = encrypt;
        Recipients = recipients;
        Identities = identities;
        FileSystem = fileSystem;
        S3 = s3;
        IdentityFile = identityFile;
    }

    /// <summary>zstd, gzip or none.</summary>
    public string Compression { get; }

    public int ZstdLevel { get; }

    public bool Encrypt { get; }

    public IReadOnlyList<AgeRecipient> Recipients { get; }

    /// <summary>Keys that open backups on restore; never logged or returned.</summary>
    public IReadOnlyList<AgeIdentity> Identities { get; }

    public FileSystemStorageOptions? FileSystem { get; }

    public S3StorageOptions? S3 { get; }

    /// <summary>The age identity file (age-keygen format) that opens Steward's backups with stock tools.</summary>
    public string IdentityFile { get; }

    public static BackupSettings Load(StewardOptions options)
    {
        string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
        var compression = Env("STEWARD_BACKUP_COMPRESSION") ?? "zstd";
        if (compression is not ("zstd" or "gzip" or "none"))
        {
            throw new ArgumentException($"STEWARD_BACKUP_COMPRESSION='{compression}' is not zstd, gzip or none");
        }

        var level = Env("STEWARD_BACKUP_ZSTD_LEVEL") is { } l
            ? int.TryParse(l, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 19 ? n : throw new ArgumentException($"STEWARD_BACKUP_ZSTD_LEVEL='{l}' is not a level from 1 to 19")
            : 3;
        var encryption = Env("STEWARD_BACKUP_ENCRYPTION") ?? "age";
        if (encryption is not ("age" or "none"))
        {
            throw new ArgumentException($"STEWARD_BACKUP_ENCRYPTION='{encryption}' is not age or none");
        }

        var identityFile = Env("STEWARD_BACKUP_IDENTITY_FILE") ?? Path.Combine(options.DataDir, "backup-identity.txt");
        var identities = LoadOrCreateIdentity(identityFile);
        var recipients = identities.Select(i => i.Recipient).ToList();
        foreach (var extra in (Env("STEWARD_BACKUP_RECIPIENTS") ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            recipients.Add(AgeRecipient.Parse(extra));
        }

        S3StorageOptions? s3 = null;
        FileSystemStorageOptions? fileSystem = null;
        if (Env("STEWARD_BACKUP_S3_BUCKET") is { } bucket)
        {
            s3 = new S3StorageOptions
            {
                Bucket = bucket,
                ServiceUrl = new Uri(Env("STEWARD_BACKUP_S3_ENDPOINT") ?? throw new ArgumentException("STEWARD_BACKUP_S3_ENDPOINT is required with STEWARD_BACKUP_S3_BUCKET")),
                AccessKey = Env("STEWARD_BACKUP_S3_ACCESS_KEY_ID") ?? throw new ArgumentException("STEWARD_BACKUP_S3_ACCESS_KEY_ID is required with STEWARD_BACKUP_S3_BUCKET"),
                SecretKey = Env("STEWARD_BACKUP_S3_SECRET_ACCESS_KEY") ?? throw new ArgumentException("STEWARD_BACKUP_S3_SECRET_ACCESS_KEY is required with STEWARD_BACKUP_S3_BUCKET"),
                Region = Env("STEWARD_BACKUP_S3_REGION") ?? "us-east-1",
                KeyPrefix = Env("STEWARD_BACKUP_S3_PREFIX") ?? string.Empty,
            };
        }
        else
        {
            var dir = Env("STEWARD_BACKUP_DIR") ?? Path.Combine(options.DataDir, "backups");
            Directory.CreateDirectory(dir);
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            fileSystem = new FileSystemStorageOptions { RootDirectory = dir };
        }

        return new BackupSettings(compression, level, encryption == "age", recipients, identities, fileSystem, s3, identityFile);
    }

    /// <summary>Adds the configured compression and encryption to a backup pipeline, in that order.</summary>
    public BackupPipelineBuilder AddFilters(BackupPipelineBuilder builder)
    {
        _ = Compression switch
        {
            "zstd" => builder.AddZstd(new ZstdOptions { Level = ZstdLevel }),
            "gzip" => builder.AddGzip(),
            _ => builder,
        };
        return Encrypt ? builder.AddAgeEncryption(new AgeEncryptionOptions { Recipients = Recipients }) : builder;
    }

    public override string ToString() => $"BackupSettings {{ Compression = {Compression}, Encrypt = {Encrypt}, Storage = {(S3 is null ? "filesystem" : "s3")} }}";

    private static List<AgeIdentity> LoadOrCreateIdentity(string file)
    {
        if (File.Exists(file))
        {
            return [.. AgeIdentity.ParseFile(File.ReadAllText(file))];
        }

        var identity = AgeIdentity.Generate();
        var text = $"# Steward backup key: opens this broker's backups (age -d -i {Path.GetFileName(file)}). Keep a copy outside this machine.\n# public key: {identity.Recipient}\n{identity.ExportSecretKey()}\n";
        return SecretFile.TryCreate(file, text) ? [identity] : [.. AgeIdentity.ParseFile(File.ReadAllText(file))];
    }
}
