namespace Steward.Backup.Filters.Age;

/// <summary>An age X25519 recipient (public key), written <c>age1...</c>. Safe to store in manifests.</summary>
public sealed class AgeRecipient : IEquatable<AgeRecipient>
{
    private const string Hrp = "age";
    private readonly byte[] _publicKey;

    internal AgeRecipient(byte[] publicKey) => _publicKey = publicKey;

    internal ReadOnlySpan<byte> PublicKey => _publicKey;

    /// <summary>Parses an <c>age1...</c> recipient.</summary>
    /// <exception cref="FormatException">The text is not an age X25519 recipient.</exception>
    public static AgeRecipient Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!Bech32.TryDecode(text.Trim(), out var hrp, out var key) || hrp != Hrp || key.Length != X25519.KeySize)
        {
            throw new FormatException($"'{text}' is not an age X25519 recipient (age1...).");
        }

        return new AgeRecipient(key);
    }

    /// <summary>The <c>age1...</c> encoding.</summary>
    public override string ToString() => Bech32.Encode(Hrp, _publicKey);

    /// <inheritdoc />
    public bool Equals(AgeRecipient? other) => other is not null && _publicKey.AsSpan().SequenceEqual(other._publicKey);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as AgeRecipient);

    /// <inheritdoc />
    public override int GetHashCode() => BitConverter.ToInt32(_publicKey, 0);
}
