"""The words the cast analysis knows: speech verbs, titles, pronouns, given names and the nouns
that describe people. English only; every list is lower case unless it says otherwise."""


def word_set(words: str) -> frozenset[str]:
    """The words of a string, as a set: the lists below are written as prose is."""
    return frozenset(words.split())


# Verbs of a speech tag ("said Jane", "she whispered"), past and present; thinking aloud counts
SPEECH_VERBS = word_set("""
    said says say saying asked asks asking replied replies replying answered answers answering
    cried cries crying exclaimed exclaims exclaiming shouted shouts shouting whispered whispers
    whispering muttered mutters muttering murmured murmurs murmuring returned returns continued
    continues continuing added adds adding observed observes remarked remarks repeated repeats
    retorted retorts demanded demands inquired inquires enquired enquires pleaded pleads begged
    protested protests called calls calling sighed sighs grumbled grumbles growled growls snapped
    snaps sneered sneers laughed laughs began begins interrupted interrupts explained explains
    insisted insists ejaculated faltered falters stammered stammers suggested suggests declared
    declares agreed agrees admitted admits advised advises corrected corrects ventured ventures
    sang sings singing thought responded responds rejoined rejoins resumed resumes urged
    yelled yells screamed screams roared roars bellowed gasped gasps groaned groans moaned sobbed
    sobs wailed hissed panted breathed chuckled chuckles giggled smiled smiles grinned spoke speaks
    intoned addressed concluded persisted objected assented conceded warned announced confessed
    mused sniffed snorted shrieked squeaked drawled blurted stuttered lisped teased scolded
    shrilled chanted recited prayed hinted reasoned argued complained commented queried
    questioned bawled barked thundered counselled counseled
    """)

# Verbs that tag speech only with their particle: "went on", "broke in"
SPEECH_PHRASES = frozenset(
    {
        ("went", "on"),
        ("goes", "on"),
        ("broke", "in"),
        ("breaks", "in"),
        ("put", "in"),
        ("struck", "in"),
        ("chimed", "in"),
        ("cut", "in"),
        ("burst", "out"),
        ("rapped", "out"),
        ("spoke", "up"),
        ("piped", "up"),
        ("followed", "up"),
    }
)

# Words that may stand between a speaker and the verb, or after the verb: "Alice hastily replied"
TAG_ADVERBS = word_set("then only again now presently at last length once still")

SUBJECT_PRONOUNS = {"he": "male", "she": "female"}
NARRATOR_PRONOUN = "i"
GROUP_PRONOUNS = frozenset({"they", "we"})

# Titles by the gender they imply (None: either); the spelling without its full stop
TITLES: dict[str, str | None] = {
    **dict.fromkeys(
        word_set("""
        mr mister sir lord master captain capt colonel col major general gen lieutenant lt
        sergeant sgt admiral commodore uncle king prince duke earl count baron marquis emperor
        father brother monsieur herr signor señor don squire parson reverend rev friar monsignor
        cardinal bishop
        """),
        "male",
    ),
    **dict.fromkeys(
        word_set("""
        mrs miss ms lady madam madame mme mlle mademoiselle dame aunt queen princess duchess
        countess baroness marchioness empress mother sister mistress frau fräulein signora señora
        señorita granny grandma
        """),
        "female",
    ),
    **dict.fromkeys(
        word_set("""
        dr doctor professor prof inspector judge saint st officer constable detective president
        governor senator mayor chief elder deacon nurse
        """),
        None,
    ),
}
# Titles written with a full stop that ends no sentence ("Mr. Darcy")
ABBREVIATIONS = word_set(
    "mr mrs ms dr st capt col gen lt sgt rev prof mme mlle messrs jr sr no vs etc"
)
# Titles that name one person alike when spelled either way
TITLE_SPELLINGS = {"mister": "mr", "doctor": "dr", "capt": "captain", "professor": "prof"}

# Name particles that may stand lower case inside a name ("Ludwig van Beethoven")
NAME_PARTICLES = word_set("von van de du da del der le la di")

# Capitalized words that start sentences and are no names
NOT_NAMES = word_set("""
    the a an and but or nor so then now well oh o ah aye yes no nay why what when where how who
    whom whose which this that these those it its he she they we you i me my mine your yours his
    her hers our ours their theirs him them us if in on at of for with by to from as into upon
    about over under after before since until till while though although because do does did
    don't doesn't didn't is are was were be been being have has had will would shall should can
    could may might must let come go dear poor good very not all some any every each here there
    just only still yet even also too please pray indeed perhaps hang mercy alas hush hullo hello
    hallo hey ho ha hum mr mrs miss never nothing nobody none one two three four five six seven
    eight nine ten first last next many much more most such same other another both either
    neither few little old young great long sir madam ma'am lord god heaven heavens christmas
    sunday monday tuesday wednesday thursday friday saturday january february march april may june
    july august september october november december english french german chapter book part
    volume yes'm no'm ay aw bah humbug pooh fie la lo oho ahem whew tut hurrah hurray huzzah
    amen chorus finally suddenly presently meanwhile afterwards later instead however therefore
    thus hence besides moreover sometimes often always once twice slowly quickly quietly softly
    gently again ever really surely certainly
    """)
# ... but "March" is a name in "the March Hare": a word of NOT_NAMES is kept inside a longer name
# when a capitalized word follows it.

# Verbs of the narration that only a person (or a talking animal) does: a name that is the
# subject of two of them is a character ("Jane smiled")
PERSON_VERBS = word_set("""
    said asked replied answered cried looked smiled laughed turned nodded shook went came sat stood
    took gave felt thought knew saw walked ran held stared sighed whispered shouted wept frowned
    grinned rose stepped paused hesitated glanced gazed listened spoke told began continued
    returned answered exclaimed muttered murmured added observed remarked seemed wished hoped
    wanted loved hated feared kissed cried screamed sprang jumped hurried rushed crept leaned
    bowed waved pointed shrugged blushed trembled sobbed groaned
    """)

# Nouns for a person the narration has just brought in ("a man stepped in ... said the
# stranger"): the tag's description is that person's
NEWCOMER_NOUNS = word_set("stranger visitor newcomer intruder caller")

# Plural nouns, which describe no one speaker ("the two young men went out")
PLURAL_PEOPLE = word_set("men women gentlemen ladies boys girls children people folk")

# Nouns that describe a person in a speech tag ("the old man", "his wife"), by gender
MALE_NOUNS = word_set("""
    man men gentleman gentlemen boy boys lad fellow father husband uncle brother son nephew
    grandfather king prince lord sir master monk priest gent chap squire
    """)
FEMALE_NOUNS = word_set("""
    woman women lady ladies girl girls lass mother wife aunt sister daughter niece grandmother
    queen princess maid mistress widow housekeeper
    """)
PERSON_NOUNS = (
    word_set("""
    child stranger visitor guest host captain doctor clerk servant driver officer soldier sailor
    man woman boy girl lady gentleman old one other companion friend youth creature figure
    official artist painter owner merchant traveller landlord keeper porter waiter cook nurse
    coachman farmer
    """)
    | MALE_NOUNS
    | FEMALE_NOUNS
)
# A speaker known only as a voice ("cried a cheerful voice") is nobody the cast can name
VOICE_NOUNS = word_set("voice voices cry shout whisper call")

# Kinship and company: "his wife", "her father", "my companion" name someone near the speaker
SPOUSE_OR_PARENT_FEMALE = word_set("wife lady mother")
SPOUSE_OR_PARENT_MALE = word_set("husband father")
COMPANIONS = word_set("companion friend comrade partner other")

DETERMINERS = word_set("the a an that this")
POSSESSIVES = word_set("his her my our their its your")

PREPOSITIONS = word_set("""
    to at on of in with by for from into onto upon about over under after before between towards
    toward among against across through behind beside near past round around like than without
    within beyond below above beneath during along inside outside throughout amid out off up down
    """)

# Pronouns, which no description holds ("that he sang": no "that he")
PRONOUNS = word_set("i me you he him she her it we us they them one")

# The last word of a place's name: "Black Hill Cove", "Baker Street" name nobody
PLACE_WORDS = word_set("""
    street road lane square place park hall house inn cove bay island river hill gardens abbey
    castle church college court farm green manor row terrace bridge station wood woods forest
    lake mountain mountains valley city town village county shire sea ocean harbour harbor port
    """)

# Common verbs of narration that end a description ("the old lady reached ...")
NARRATION_VERBS = word_set("""
    was were is are had has have did does went came sat stood took gave made saw felt knew thought
    looked got ran put held began spoke broke shook threw drew left found kept let set told wrote
    rose fell seemed turned could would should might must will shall can may lay lie lies led met
    ran sat won fled hid dug bit hit cut shut struck stuck swung sang rang drank sank swam began
    forgot caught taught brought bought fought sought heard said paid laid meant slept wept crept
    dealt knelt lost sent spent bent lent built burnt leant dreamt learnt stood understood woke
    chose froze rode wrote drove became ate drew grew knew threw flew blew wore tore swore bore
    hung clung flung stung spun got shot lit spat read fed bled sped sold ground wound bound smelt
    dwelt beheld withdrew overheard sprang sprung shone hurt cast slid slung strode strove thrust
    wrung
    """)

# After a closing single quote followed by a lower-case word, these words say it was a quote
# that closed (‘Come here’ she said) and not an apostrophe (goin’ home, the Joneses’ house)
CLOSE_FOLLOWERS = SPEECH_VERBS | word_set("he she it they i we you and or but then as")

# Words that an apostrophe opens ('tis, 'em, rock 'n' roll): never an opening quote
ELISIONS = word_set("""
    em n cause cos til bout neath gainst fore pon prentice spose ud ll ve re s d t m im
    """)
ELIDED_T_WORDS = ("tis", "twas", "twere", "twill", "twould", "twixt", "tain")

# Given names by gender (a guess where a title and pronouns say nothing)
FEMALE_NAMES = word_set("""
    elizabeth jane mary anne ann anna emma catherine kitty lydia charlotte caroline georgiana
    harriet fanny marianne elinor lucy margaret meg beth amy alice marilla diana rachel sarah
    susan martha eliza lizzy lizzie louisa isabella julia maria sophia sophie eleanor helen ellen
    edith florence grace rose ruth esther hannah agnes polly molly dorothy dora estella biddy nancy
    bella becky rebecca sally betsy peggy wendy clara laura lily lilian matilda victoria cecily
    gwendolen sibyl sybil mina cordelia josephine amelia emily evelyn irene jessie judith katherine
    kate katie maggie marian marion nora olivia pauline phoebe priscilla rosalind rosamond selina
    stella teresa theresa tess violet winifred beatrice bertha celia dinah dolly hetty ida janet
    jenny jennie joan lottie mabel madeline maud milly minnie nell nelly nellie olive ruby ada
    agatha hester georgia cathy catherine marmee hermione gertrude ophelia juliet portia miranda
    """)
MALE_NAMES = word_set("""
    john james william george charles thomas tom henry harry edward robert richard joseph joe
    samuel sam david daniel peter paul michael arthur albert alfred frederick fred francis frank
    walter ben benjamin jim jack jacob matthew mark luke philip pip stephen hugh ralph roger edmund
    edgar ernest algernon basil dorian oliver nicholas tim timothy bob bill billy dick ned sid
    sidney huck huckleberry sherlock mycroft fitzwilliam ebenezer herbert horace howard isaac
    jeremy lawrence laurie leonard lewis louis martin maurice nathaniel owen patrick percy reginald
    rupert simon theodore victor vincent wilfred abel adam andrew anthony austin barnaby
    bartholomew cecil christopher clement colin cyril dan dennis douglas duncan eric eugene felix
    geoffrey gerald gilbert godfrey gregory guy harold harvey humphrey ivan jasper jeremiah
    jonathan joshua julian justin keith kenneth lionel malcolm miles moses neville noah norman
    oscar rodney ronald roland silas solomon sebastian stanley toby tobias wallace wesley will
    willie willy malachi gabriel lucas leo max ted teddy tony jerry larry gus abe hal nat ezra
    elijah eli enoch gideon hiram ichabod levi reuben saul seth thaddeus uriah romeo hamlet
    """)
