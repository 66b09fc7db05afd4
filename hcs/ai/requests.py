"""What a customer must never be asked for: secrets, card and bank details, access, money."""

from __future__ import annotations

from hcs.ai.intents import Intent

# Verbs and phrasings of asking, in English, French, German, Spanish, Dutch and Italian.
ASK = (
    r"send\w*|share|sharing|give|giving|provide|tell|enter|type|key in|reply|respond|text|"
    r"confirm\w*|verif\w*|submit|update|read (?:it |them )?(?:out|back|us)|forward|"
    r"let us (?:know|have)|"
    r"need|needs|needed|require\w*|requested|must|please|what|which|fill in|input|"
    r"upload|re-?enter|validate|email us|write (?:down|back)|call us with|hand over|state|quote|"
    r"envoy\w*|transmett\w*|communiqu\w*|donn\w*|indiqu\w*|fourni\w*|saisi\w*|entrez|tapez|"
    r"répond\w*|partag\w*|besoin|merci de|veuillez|renseign\w*|mett\w* à jour|précis\w*|"
    r"send\w*|schick\w*|teil\w* (?:sie )?(?:uns )?mit|geben sie|gib|nenn\w*|übermittel\w*|"
    r"eingeb\w*|bestätig\w*|antwort\w*|benötig\w*|brauch\w*|bitte|verifizier\w*|aktualisier\w*|"
    r"tipp\w*|angeben|an ?geben|env[ií]\w*|mand\w*|compart\w*|d[ée]nos|facilit\w*|"
    r"proporcion\w*|ind[ií]qu\w*|confirm\w*|respond\w*|introduzca|introduce|ingres\w*|"
    r"escrib\w*|necesit\w*|por favor|actualic\w*|actualiz\w*|d[ií]ganos|dinos|d[ií]game|dime|"
    r"(?:nos|me) (?:dices|dice|das|da|pasas|pasa|env[ií]as)|"
    r"stuur\w*|geef|deel|vul\w* in|"
    r"invia\w*|comunica\w*|inserisc\w*|conferm\w*|fornisc\w*|abbiamo bisogno"
)
_CODE_KIND = (
    r"one[- ]time|verification|security|confirmation|authenti\w*|authori[sz]ation|access|"
    r"log-?in|sms|text|2fa|mfa|otp|\d[- ]digit|six[- ]digit|four[- ]digit|activation|"
    r"reset|sign-?in|unlock|transaction"
)
REQUESTS = (
    Intent(
        "credentials",
        "passwords, log-in details, security answers or identity data",
        objects=(
            r"pass(?:word|code|phrase)s?|pwd|log[- ]?in(?: details| credentials| data| info\w*)?|"
            r"sign-?in details|user ?names?|credentials|security (?:questions?|answers?)|"
            r"memorable (?:word|information|date)|secret (?:word|answer|phrase)|"
            r"(?:word|code|phrase|details) you use to (?:sign|log) ?in|mots? de passe|mdp|"
            r"identifiants?|mot secret|geheimwort|palabra secreta|(?:mother's )?maiden name|"
            r"date of birth|social security(?: number)?|national insurance(?: number)?|ssn|"
            r"passport number|geburtsdatum|mädchenname|date de naissance|nom de jeune fille|"
            r"fecha de nacimiento|apellido de soltera|"
            r"passw[oö]rt\w*|kennw[oö]rt\w*|zugangsdaten|anmeldedaten|login-?daten|"
            r"contraseñas?|claves? de acceso|datos de acceso|credenciales|usuario y clave|"
            r"wachtwoord\w*|inloggegevens|credenziali",
        ),
        cues=(ASK,),
    ),
    Intent(
        "one_time_codes",
        "one-time, verification or SMS codes and PINs",
        objects=(
            rf"(?:{_CODE_KIND}) ?(?:pass)?(?:codes?|numbers?|digits)|otp|m?tan(?:-?nummer)?|"
            r"pin(?:-?code|-?nummer)?|"
            r"codes? (?:that |which )?(?:we |you )?(?:just )?(?:sent|texted|received|got|arrived|"
            r"came|appears?|popped up)|codes? (?:\w+ ){0,4}(?:on|in|to|from|by|via) "
            r"(?:your|the|our|this|that|a|an) (?:\w+ )?(?:phone|mobile|sms|text|app|inbox|email|"
            r"device|message)|"
            r"code (?:de |à )?(?:vérification|confirmation|sécurité|usage unique|validation)|"
            r"code (?:reçu|envoyé|par sms)|code pin|code secret|"
            r"(?:bestätigungs|sicherheits|verifizierungs|einmal|sms|freigabe)-?(?:code|passwort)|"
            r"geheimzahl|"
            r"c[oó]digo(?: de)? (?:verificaci[oó]n|seguridad|confirmaci[oó]n|acceso|sms)|"
            r"c[oó]digo (?:que|recibido|enviado)|clave (?:de un solo uso|pin|sms|que)|"
            r"(?:numbers?|digits|codes?) (?:\w+ ){0,4}(?:by|via|from|in) "
            r"(?:the |a |an |our |your )?(?:\w+ )?(?:text|sms|message)s?|"
            r"(?:texted|sent|messaged|emailed|sms'd) you (?:a|the|an) (?:\w+ )?(?:number|code|pin|"
            r"digits|password)|"
            r"codice (?:di verifica|otp|sms)|verificatiecode|sms-code",
        ),
        cues=(ASK,),
        phrases=(
            r"(?:texted|sent|messaged|emailed) you (?:a|the|an) (?:\w+ )?(?:code|pin|passcode)|"
            r"(?:text|sms|message) with (?:a|the|an|your) (?:\w+ )?(?:code|pin|passcode)",
        ),
    ),
    Intent(
        "card_details",
        "card numbers, CVV or expiry dates",
        objects=(
            r"(?:credit |debit |bank |payment )?card(?: number| details| no| digits| info\w*)|"
            r"(?:long )?(?:16|sixteen)[- ]digit(?: card)? number|long number on (?:your|the) card|"
            r"cvv2?|cvc2?|cv2|csc|security code(?: on| of)? (?:the |your )?(?:back|card)|"
            r"three[- ]digit code|3[- ]digit code|expir\w* date|(?:three |3 )?digits on the back|"
            r"back of (?:your|the) card|numbers? on (?:your|the) card|"
            r"(?:long )?numbers? on the (?:front|back) of (?:your|the) (?:\w+ )?card|"
            r"card you (?:pay|paid|use|used|shop) with|card'?s? (?:\w+ )?(?:details|number)|"
            r"(?:numbers?|digits) on (?:your|the) (?:\w+ )?(?:card|visa|mastercard|amex)|"
            r"(?:visa|mastercard|amex|american express|maestro)(?: card)?(?: number| details)?|"
            r"chiffres de (?:votre |ta )?carte|carte bancaire|numéros? de (?:la )?carte|"
            r"numéro de (?:votre |ta )?carte|code (?:de (?:votre |la )?)?carte|carte bleue|"
            r"code confidentiel|pin de (?:su |tu |la )?tarjeta|karten-?pin|"
            r"cryptogramme|date d'expiration|kartennummer|kreditkarten\w*|kartendaten|"
            r"prüfnummer|prüfziffer|ablaufdatum|n[uú]mero de (?:su |tu |la )?tarjeta|"
            r"datos de (?:su |tu |la )?tarjeta|fecha de (?:caducidad|vencimiento)|"
            r"kaartnummer|numero (?:della )?carta",
        ),
        cues=(ASK,),
    ),
    Intent(
        "bank_details",
        "bank details, account numbers, sort codes or online-banking access",
        objects=(
            r"bank(?:ing)? (?:details|account(?: number| details)?|log-?in|information)|"
            r"account (?:number|no)|sort code|routing number|iban|bic|swift|online banking|"
            r"coordonnées bancaires|rib|identifiants bancaires|numéro de compte|"
            r"bankdaten|bankverbindung|kontonummer|kontodaten|online-?banking|bankzugang|"
            r"datos bancarios|n[uú]mero de cuenta|cuenta bancaria|banca (?:online|en l[ií]nea)|"
            r"bankgegevens|rekeningnummer|coordinate bancarie",
        ),
        cues=(ASK,),
    ),
    Intent(
        "remote_access",
        "remote access to the customer's device",
        objects=(
            r"remote (?:access|desktop|control|support|session|connection)|screen ?shar\w*|"
            r"share (?:your|the) screen|access (?:to )?(?:your|the) (?:computer|device|pc|phone|"
            r"laptop)|(?:remote|support|help) (?:app|software|program|tool)|"
            r"fernzugriff|fernwartung|bildschirm(?:freigabe| teilen)|"
            r"zugriff auf ihren (?:pc|computer)|"
            r"accès à distance|contrôle à distance|prise en main|partage d'écran|"
            r"acceso remoto|control remoto|compartir (?:la |su )?pantalla|acceso a (?:su|tu) "
            r"(?:ordenador|equipo|dispositivo)|toegang op afstand|accesso remoto",
        ),
        cues=(
            r"install\w*|download\w*|open|allow|grant|let (?:us|our|me)|connect|accept|run|"
            r"give (?:us|our)|installer|télécharg\w*|autoris\w*|herunterlad\w*|zulass\w*|"
            r"erlaub\w*|gewähr\w*|descarg\w*|instal[ae]\w*|permit\w*|conced\w*|"
            r"technician|techniker|technicien|técnico|need\w*|requir\w*|must have",
        ),
        phrases=(
            r"anydesk|teamviewer|rustdesk|supremo|ultraviewer|quick ?assist|logmein|"
            r"screenconnect|splashtop|ammyy|remote ?pc|share (?:your|the) screen|screen ?shar\w*|"
            r"(?:connect|log ?in|dial in|get in)(?:to)? (?:to )?your (?:computer|laptop|pc|mac|"
            r"device|phone|tablet|screen)|take (?:control|over) (?:of )?your|"
            r"remote (?:in)?to your|remote in\b|dial into your|give (?:them|us|him|her) control|"
            r"partag\w* (?:votre|ton) écran|bildschirm (?:teilen|freigeben)|"
            r"compart\w* (?:su|tu) pantalla",
        ),
        window=60,
    ),
    Intent(
        "money_transfer",
        "moving money, buying gift cards or paying to a new account",
        objects=(
            r"(?:your |the |all )?(?:money|funds|savings|balance|amount|sum|outstanding \w+)|"
            r"safe account|secure account|holding account|new account|account below|"
            r"following account|this account|gift ?cards?|vouchers? codes?|bitcoin|crypto\w*|"
            r"vouchers?|prepaid cards?|(?:itunes|google play|amazon|steam|apple) cards?|"
            r"(?:admin\w*|processing|release|handling|unlock\w*|transfer) fees?|settlement|"
            r"to (?:our|the|this|a) (?:\w+ )?account|the account (?:our|your|their) \w+|"
            r"the account (?:we|i|below|above)\w*|bank transfer|\d+(?:[.,]\d+)? ?(?:gbp|eur|usd)|"
            r"(?:le|un|au|vers le|sur le) compte|compte indiqué|"
            r"western union|moneygram|geld|ersparnisse|guthaben|sicheres konto|betrag|"
            r"gutscheinkarten|argent|fonds|épargne|compte sécurisé|cartes? cadeaux?|montant|"
            r"nouveau compte|dinero|ahorros|fondos|cuenta segura|tarjetas? regalo|importe|"
            r"nueva cuenta|cuenta (?:siguiente|indicada)|geld overmaken|denaro",
        ),
        cues=(
            r"transfer\w*|move|moving|send\w*|wire|pay|paying|deposit|withdraw|buy|purchase|settle|"
            r"forward\w*|"
            r"effectu\w*|"
            r"überweis\w*|transferier\w*|zahlen|einzahl\w*|kauf\w*|abheb\w*|verschieb\w*|"
            r"vir\w*|transfér\w*|payer|payez|achet\w*|retir\w*|déplac\w*|dépos\w*|"
            r"transfier\w*|transferencia|pague|pagar|compre|comprar|mueva|mover|deposit\w*|"
            r"ingres\w*|maak\w* over|trasferi\w*|bonific\w*",
        ),
        window=60,
    ),
)
