"""Threats, pressure and deadlines put on the customer, and advice a company must not give."""

from __future__ import annotations

from hcs.ai.intents import Intent

_CONSEQUENCE = (
    r"(?:will|would|may|might|could|shall|is going to|are going to|'ll) (?:be |get )?"
    r"(?:closed|suspended|blocked|frozen|terminated|cancell?ed|deleted|locked|disabled|"
    r"deactivated|seized|reported|charged|fined|restricted|lost|removed|passed to|voided|void|"
    r"forfeited|invalidated|released|annulled|withdrawn|revoked|cut off|disconnected|"
    r"shut off|switched off|turned off)|forfeit\w*|"
    r"(?:have to |need to |must )?(?:disconnect|cut off|shut off|switch off|suspend|close|block)"
    r" (?:you|your)|(?:cut|switch|shut) (?:off )?your (?:supply|service|power|gas|electricity|"
    r"water|line|account)|cortar\w*|cortaremos|suspenderemos|couper\w*|coupure|abstellen|"
    r"abschalten|abgeschaltet|"
    r"(?:will|'ll|would|is going to|are going to) (?:\w+ ){0,2}(?:lose|be lost|be gone|"
    r"be thrown (?:away|out)|be discarded|be destroyed|be given away|be binned|stop working|"
    r"stop|end|expire|disappear|lock you out|be locked)|lock (?:you|your \w+) out|"
    r"(?:is|are|will be) gone|for good|permanently|stops? working|no longer work\w*|"
    r"perder\w*|perdrez|perdre|perdu|verlier\w*|verloren|"
    r"uninsured|unprotected|without (?:cover|insurance|protection)|lapses?|lapsed|"
    r"no longer (?:be )?(?:covered|insured|protected|valid)|"
    r"(?:to )?avoid (?:losing|cancellation|suspension|a fee|fees|charges|penalt\w*|closure)|"
    r"lose (?:access|your|all|everything)|legal action|legal steps|court|police|arrest\w*|"
    r"gets? (?:frozen|closed|suspended|blocked|locked|cancell?ed|deleted|cut off)|collections?|"
    r"bailiffs?|debt collect\w*|collection agency|penalt\w*|late fees?|surcharge|"
    r"prosecut\w*|consequences|wird (?:\w+ )?(?:gesperrt|geschlossen|gelöscht|gekündigt|"
    r"eingefroren|deaktiviert)|gesperrt|sperrung|inkasso\w*|gericht\w*|polizei|mahngebühr\w*|"
    r"wird (?:\w+ ){0,2}(?:gesperrt|geschlossen|gelöscht|gekündigt|eingefroren|deaktiviert)|"
    r"strafe|rechtliche schritte|konsequenzen|sera (?:\w+ )?(?:suspendu|bloqué|fermé|clôturé|"
    r"supprimé|résilié|annulé)e?s?|suspendue?s?|bloquée?s?|poursuites|huissier|tribunal|amende|"
    r"pénalités?|recouvrement|conséquences|ser[aá]n? (?:\w+ )?(?:suspendid|bloquead|cerrad|"
    r"cancelad|eliminad|anulad)[oa]s?|bloquead[oa]|suspendid[oa]|acciones legales|"
    r"medidas legales|demanda|policía|multa|"
    r"recargo|consecuencias|geblokkeerd|incasso|bloccat\w*"
)
_DEADLINE = (
    r"or|and|ignore|otherwise|if (?:you|we) (?:don't|do not|fail|haven't)|unless|failure to|"
    r"failing|unpaid|overdue|outstanding|late|si no|"
    r"within|by|before|"
    r"today|tonight|tomorrow|immediately|now|right away|hours?|minutes?|deadline|"
    r"sonst|andernfalls|wenn sie nicht|falls sie nicht|innerhalb|bis|vor|sofort|heute|"
    r"morgen|stunden|frist|sinon|faute de|si vous ne|dans les|avant|immédiatement|"
    r"aujourd'hui|demain|heures|délai|de lo contrario|si no|en caso contrario|dentro de|"
    r"antes de|inmediatamente|hoy|mañana|horas|plazo|anders|binnen|altrimenti|entro"
)
_ACT = (
    r"act|respond|reply|pay|call|click|confirm|verify|log ?in|sign ?in|update|complete|"
    r"contact us|do (?:it|this|so)|handeln|antworten|zahlen|bezahlen|bestätigen|reagieren|"
    r"melden|agir|agissez|répondez|payez|réglez|confirmez|appelez|actúe|actuar|responda|"
    r"pague|confirme|llame"
)
_URGENT = (
    r"now|immediately|right away|today|tonight|urgently|without delay|asap|at once|"
    r"within \d+ ?(?:hours?|minutes?|h|days?)|within the (?:hour|day)|before it(?:'s| is) too "
    r"late|straight away|right now|promptly|as soon as possible|sofort|umgehend|"
    r"unverzüglich|heute noch|dringend|immédiatement|sans délai|aujourd'hui même|d'urgence|"
    r"dès maintenant|inmediatamente|de inmediato|urgentemente|hoy mismo|sin demora|"
    r"cuanto antes|subito|onmiddellijk"
)
PRESSURE = (
    Intent(
        "threats",
        "threats of closure, penalties, legal action or loss",
        objects=(_CONSEQUENCE,),
        cues=(_DEADLINE,),
        negatable=False,
    ),
    Intent(
        "deadlines",
        "urgency and deadlines the approved text does not set",
        objects=(_ACT,),
        cues=(_URGENT,),
        phrases=(
            r"urgent\w*|final (?:notice|warning|reminder|demand)|last (?:chance|warning)|"
            r"time is running out|running out of time|don'?t delay|do not delay|"
            r"expires? (?:today|tonight|soon|in \d+)|only \d+ (?:hours?|minutes?) left|"
            r"act fast|hurry|dringend|letzte (?:mahnung|warnung|chance|frist)|"
            r"läuft (?:heute|bald) ab|dernier (?:avis|rappel|avertissement|délai)|"
            r"dernière (?:chance|relance)|expire (?:aujourd'hui|bientôt|ce soir)|"
            r"último aviso|última (?:oportunidad|advertencia)|vence hoy|caduca hoy|"
            r"urgente|laatste kans|ultimo avviso",
        ),
        window=40,
        negatable=False,
    ),
)

_ADVISE = (
    r"put|move|switch|open|halve|double|reduce|increase|lower|skip|stop|threaten\w*|"
    r"should|recommend\w*|advis\w*|suggest\w*|best (?:to|option|choice|move|thing)|i'?d|"
    r"better off|(?:wise|smart|sensible) to|you(?:'d| would) do well|you could|you can|"
    r"you may want to|you might want to|why not|recomiend\w*|"
    r"you (?:must|need to|ought to|have to)|consider|make sure|good idea|worth|"
    r"sollten|solltest|empfehl\w*|rate\w*|raten|am besten|lohnt sich|devriez|devez|conseill\w*|"
    r"recommand\w*|il vaut mieux|je vous suggère|vous avez intérêt|deber[ií]a\w*|recomend\w*|"
    r"aconsej\w*|le sugiero|te sugiero|lo mejor|conviene|raad\w*|consigli\w*|dovrebbe"
)
ADVICE = (
    Intent(
        "financial_advice",
        "investment, tax, credit or savings advice",
        objects=(
            r"invest\w*|stocks?|shares|bonds|crypto\w*|bitcoin|etfs?|index funds?|funds?|"
            r"pensions?|retirement|mortgages?|loans?|refinanc\w*|tax(?:es)?|savings|portfolio|"
            r"remortgag\w*|"
            r"interest rates?|isas?|high-interest|savings accounts?|"
            r"anleg\w*|aktien|fonds|investier\w*|geldanlage|kredit\w*|hypothek\w*|"
            r"steuer\w*|rente|sparen|investir|actions|placements?|crédits?|prêts?|hypothèque|"
            r"impôts?|épargne|retraite|invertir|inversi[oó]n\w*|acciones|bolsa|préstamos?|"
            r"hipoteca|impuestos|ahorros|jubilaci[oó]n|beleggen|investire|azioni|mutuo",
        ),
        cues=(_ADVISE,),
        phrases=(
            r"you can (?:claim|deduct|write off|offset) (?:it|this|that|the \w+)|"
            r"(?:claim|deduct) (?:it|this|that) (?:on|against|from) your (?:tax|taxes|return)|"
            r"(?:as|a) (?:tax[- ]deductible|business expense)",
        ),
    ),
    Intent(
        "legal_advice",
        "legal advice: rights, claims, lawsuits",
        objects=(
            r"sue|suing|lawsuit|court|small claims|lawyer|attorney|solicitor|legal action|"
            r"ombudsman|file a (?:claim|complaint)|take (?:us|them|legal)|klagen|klage|"
            r"anwalt|rechtsanwalt|gericht|schlichtungsstelle|poursuivre|avocat|tribunal|"
            r"médiateur|porter plainte|demandar|demanda|abogado|tribunal|denunciar|"
            r"advocaat|rechter|avvocato|tribunale",
        ),
        cues=(_ADVISE,),
        phrases=(
            r"(?:you are|you're) (?:legally )?entitled to|you have (?:a|the) (?:legal )?right to|"
            r"(?:legally|by law),? you (?:don't|do not|needn't|need not) (?:have to )?pay|"
            r"under (?:\w+ )?(?:law|regulations?),? you|by law,? you|statutory rights?|"
            r"(?:sie haben|haben sie) (?:einen )?(?:rechts)?anspruch auf|gesetzlich\w* "
            r"(?:anspruch|recht)|vous avez (?:le )?droit (?:à|de)|selon la loi,? vous|"
            r"tiene(?:s)? derecho a|seg[uú]n la ley,? (?:usted|tú)|u heeft recht op|"
            r"ha diritto a|the contract is (?:void|invalid|unenforceable)|"
            r"legally,? (?:the|they|you|we|it|this)|by law,? (?:the|they|it)|"
            r"under (?:\w+ ){0,2}law|consumer (?:law|rights)|claim (?:compensation|damages) from|"
            r"(?:has|have) to (?:replace|refund|repair) it by law|"
            r"rechtlich (?:muss|müssen|sind)|légalement,? (?:le|ils|vous)|"
            r"legalmente,? (?:el|ellos|usted)",
        ),
    ),
    Intent(
        "medical_advice",
        "medical advice: diagnoses, medication, doses",
        objects=(
            r"medication|medicine|drugs?|doses?|dosage|\d+ ?mg|milligrams?|pills?|tablets?|"
            r"ibuprofen|paracetamol|acetaminophen|aspirin|antibiotics?|painkillers?|"
            r"antihistamines?|doctor|physician|gp|treatment|therapy|supplements?|"
            r"inhalers?|asthma|insulin|blood pressure|symptoms?|inhalator|asthme|asma|"
            r"medikament\w*|tabletten?|arzt|ärztin|dosis|behandlung|schmerzmittel|"
            r"médicaments?|comprimés?|médecin|traitement|posologie|antidouleur|"
            r"medicamentos?|pastillas?|médico|tratamiento|analgésicos?|geneesmiddel\w*|"
            r"farmac\w*|medico",
        ),
        cues=(
            _ADVISE,
            r"take|taking|stop taking|use|using|keep|nehmen|prenez|prendre|tome|tomar|"
            r"more often|less often|extra (?:puffs?|doses?)",
        ),
        phrases=(
            r"take \d+ ?(?:mg|tablets?|pills?)|(?:it )?sounds like you have|you (?:probably|may|"
            r"might) have (?:a |an )?(?:infection|allergy|flu|virus|condition|migraine)|"
            r"nehmen sie \d+|prenez \d+|tome \d+",
        ),
    ),
)
