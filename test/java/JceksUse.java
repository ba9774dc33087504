// Loads a secret key from a JCEKS keystore and uses it, as Tungsten's JGroups encryption does.
// Usage: java JceksUse.java STORE STOREPASS ALIAS ALGORITHM [EXPECTED_KEY_HEX]
// Prints "ok <algorithm> <bits> <key hex>" and exits 0, or prints the failure and exits 1.
import java.io.FileInputStream;
import java.security.Key;
import java.security.KeyStore;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;

public class JceksUse {
    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: java JceksUse.java STORE STOREPASS ALIAS ALGORITHM [EXPECTED_KEY_HEX]");
            System.exit(2);
        }
        char[] pass = args[1].toCharArray();
        KeyStore ks = KeyStore.getInstance("JCEKS");
        try (FileInputStream in = new FileInputStream(args[0])) {
            ks.load(in, pass);
        }
        if (!ks.isKeyEntry(args[2]) || !ks.entryInstanceOf(args[2], KeyStore.SecretKeyEntry.class)) {
            fail("no secret key entry " + args[2] + " in " + args[0]);
        }
        Key key = ks.getKey(args[2], pass);
        if (!(key instanceof SecretKey)) fail("entry " + args[2] + " is not a SecretKey: " + key);
        if (!args[3].equals(key.getAlgorithm())) fail("algorithm " + key.getAlgorithm() + ", expected " + args[3]);
        byte[] encoded = key.getEncoded();
        String hex = HexFormat.of().formatHex(encoded);
        if (args.length > 4 && !args[4].equalsIgnoreCase(hex)) fail("key bytes " + hex + ", expected " + args[4]);

        byte[] plain = "JGroups message: hello cluster!".getBytes("UTF-8");
        Cipher enc = Cipher.getInstance(args[3]);
        enc.init(Cipher.ENCRYPT_MODE, key);
        byte[] sealed = enc.doFinal(plain);
        Cipher dec = Cipher.getInstance(args[3]);
        dec.init(Cipher.DECRYPT_MODE, key);
        byte[] back = dec.doFinal(sealed);
        if (Arrays.equals(sealed, plain) || !Arrays.equals(back, plain)) fail("encrypt/decrypt round trip failed");
        System.out.println("ok " + key.getAlgorithm() + " " + (encoded.length * 8) + " " + hex);
    }

    private static void fail(String msg) {
        System.out.println("FAIL " + msg);
        System.exit(1);
    }
}
