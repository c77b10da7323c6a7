"""Write the municipal evaluation corpus: eight documents of the fictional Exempelkommunen.

``python -m tests.eval.make_kommun_corpus OUTDIR`` writes the files that
``qa/eval/testsets/kommun_sv.jsonl`` is labelled against: two PDFs with pages, two DOCX, an
ODT, two web pages with navigation, cookie banner, "Relaterade länkar" and footer around the
content, and a Markdown file. They are written by the same generators the format readers'
tests use (``tests.ingest.make_files``), in the formats a municipality publishes.

The generated files are committed under ``qa/eval/testsets/kommun/``: the test set's evidence
is checked against the text the service converts from *those* files, so an evaluation never
depends on regenerating them (a new reportlab or python-docx could change the bytes). Rerun
this script only to change the corpus, and then check every evidence quote again
(``tests/eval/test_kommun_testset.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.ingest.make_files import make_docx, make_html, make_markdown, make_odt, make_pdf

Block = tuple[str, str]

PARKERINGSPOLICY: list[list[Block]] = [
    [
        ("h1", "Parkeringspolicy för Exempelkommunen"),
        ("p", "Antagen av kommunfullmäktige den 17 mars 2025, § 42. Policyn gäller från den 1 maj 2025 "
              "och ersätter parkeringsprogrammet från 2016."),
        ("h2", "1. Syfte"),
        ("p", "Parkeringspolicyn anger hur kommunen planerar, prissätter och övervakar parkering på "
              "gatumark och på kommunens egna parkeringsplatser. Målet är en levande stadskärna där det "
              "är lätt att hitta en ledig plats för ett kort ärende, samtidigt som gator och torg inte "
              "fylls av bilar som står stilla hela dagen."),
        ("p", "Avgifterna är ett verktyg för att styra efterfrågan. När det kostar mer att stå länge nära "
              "centrum flyttar långtidsparkeringen till infartsparkeringarna, och det blir lättare för "
              "besökare, handlare och hantverkare att hitta en plats."),
        ("h2", "2. Ansvar"),
        ("p", "Samhällsbyggnadsnämnden ansvarar för att policyn följs och för de lokala "
              "trafikföreskrifterna. Parkeringsövervakningen sköts av kommunens parkeringsvakter på "
              "uppdrag av nämnden. Frågor om felparkeringsavgifter besvaras av parkeringsenheten på "
              "telefon 0123-45 68 10, vardagar klockan 9–12."),
        ("h2", "3. Avgiftszoner"),
        ("p", "Kommunen är indelad i tre avgiftszoner:"),
        ("li", "Zon A omfattar stadskärnan innanför Ringvägen, med Stora torget och Kungsgatan."),
        ("li", "Zon B omfattar området mellan Ringvägen och järnvägen samt stationsområdet."),
        ("li", "Zon C omfattar övriga tätorter och ytterområden, där parkering i regel är avgiftsfri."),
        ("p", "Gränserna mellan zonerna framgår av kartan i bilaga 1 och av skyltningen på plats."),
    ],
    [
        ("h2", "4. Avgifter och tider"),
        ("p", "Avgift tas ut vardagar klockan 8–18 och lördagar klockan 10–15. På söndagar och helgdagar "
              "är parkeringen avgiftsfri i alla zoner, om inte annat anges på skylt."),
        ("row", "Zon | Timtaxa | Längsta tillåtna tid"),
        ("row", "Zon A | 25 kr | 3 timmar"),
        ("row", "Zon B | 15 kr | 8 timmar"),
        ("row", "Zon C | Avgiftsfri | 24 timmar"),
        ("p", "Den som betalar med appen eller i parkeringsautomaten betalar per påbörjad minut. "
              "Infartsparkeringar finns vid Norra station och vid Västra vägen intill idrottsplatsen "
              "Vallen, och därifrån går bussar till centrum var tionde minut."),
        ("p", "På infartsparkeringarna kostar en hel dag 30 kronor, och ett månadskort kostar "
              "400 kronor."),
        ("h2", "5. Elbilar och laddplatser"),
        ("p", "Laddplatser får bara användas av fordon som laddas. Vid kommunens publika laddstolpar "
              "betalar man både för parkeringen och för den el som används, 4,50 kronor per "
              "kilowattimme. När laddningen är klar ska bilen flyttas inom 30 minuter."),
        ("h2", "6. Motorcyklar och cyklar"),
        ("p", "Motorcyklar och mopeder parkeras avgiftsfritt på särskilt markerade platser. Vid "
              "resecentrum finns ett låst cykelgarage med plats för 300 cyklar som kan användas "
              "dygnet runt av den som har ett cykelkort."),
        ("p", "Cyklar som har stått på samma plats i mer än fyra veckor på allmän plats märks upp och "
              "kan därefter forslas bort av kommunen."),
    ],
    [
        ("h2", "7. Boendeparkering"),
        ("p", "Den som är folkbokförd i zon A eller zon B och saknar tillgång till egen parkeringsplats "
              "kan ansöka om tillstånd för boendeparkering. Tillståndet gäller på gatuplatser inom det "
              "område som anges på tillståndet och ger rätt att stå upp till sju dygn i följd."),
        ("p", "För att få tillstånd krävs att"),
        ("li", "du är folkbokförd på en adress inom boendeområdet,"),
        ("li", "bilen är registrerad på dig, eller att du kan visa att du har den som förmånsbil "
               "eller leasar den,"),
        ("li", "det inte finns obetalda felparkeringsavgifter för bilen,"),
        ("li", "du inte har tillgång till en parkeringsplats på den egna fastigheten."),
        ("p", "Boendeparkering kostar 650 kronor per månad i zon A och 450 kronor per månad i zon B. "
              "Avgiften betalas i förskott för en, tre eller tolv månader i taget."),
        ("p", "Ett hushåll kan få högst ett tillstånd. Ansökan görs i kommunens e-tjänst och behandlas "
              "normalt inom fem arbetsdagar."),
        ("h2", "8. Parkering för personer med rörelsehinder"),
        ("p", "Parkeringstillstånd för rörelsehindrade kan beviljas den som har ett varaktigt "
              "funktionshinder och har väsentliga svårigheter att förflytta sig på egen hand. "
              "Tillstånd kan också ges till en förare som behöver hjälpa en passagerare med "
              "rörelsehinder hela vägen till och från bilen."),
        ("p", "Med tillståndet får man parkera avgiftsfritt på kommunens avgiftsbelagda gatuplatser "
              "och stå upp till tre timmar där parkering annars är förbjuden, om det inte hindrar "
              "trafiken. På platser reserverade för rörelsehindrade får man stå i högst 24 timmar."),
        ("p", "Till ansökan ska ett läkarintyg bifogas som beskriver funktionshindret och hur länge det "
              "väntas bestå. Tillståndet är kostnadsfritt och utfärdas för högst fem år i taget."),
    ],
    [
        ("h2", "9. Felparkering"),
        ("p", "Den som parkerar i strid med reglerna ska betala en felparkeringsavgift. Avgifterna "
              "beslutas av kommunfullmäktige och är"),
        ("li", "1 300 kronor för parkering på en plats för rörelsehindrade utan tillstånd,"),
        ("li", "900 kronor där det är förbjudet att stanna eller parkera,"),
        ("li", "500 kronor för utebliven eller otillräcklig betalning."),
        ("p", "Den som anser att en felparkeringsavgift är felaktig kan begära omprövning hos "
              "parkeringsenheten inom sex månader. Om kommunen inte ändrar sitt beslut kan man gå "
              "vidare till tingsrätten."),
        ("h2", "10. Snöröjning och gatusopning"),
        ("p", "Under vinterhalvåret, från den 1 november till den 31 mars, gäller förbud att parkera på "
              "skyltade gator natten mot tisdag och natten mot torsdag klockan 0–6, så att snöröjningen "
              "kan göras. Bilar som står kvar kan flyttas på ägarens bekostnad."),
        ("p", "Gatusopningen på våren sker stadsdel för stadsdel under april och maj. Tillfälliga "
              "parkeringsförbud sätts upp minst en vecka i förväg."),
        ("h2", "11. Uppföljning"),
        ("p", "Policyn följs upp vartannat år. Samhällsbyggnadsnämnden redovisar då beläggningen på "
              "gatuplatserna, hur många tillstånd som har utfärdats och hur avgifterna har påverkat "
              "efterfrågan."),
    ],
]

AVFALL: list[Block] = [
    ("p", "Här hittar du information om sophämtning, avgifter och återvinningscentralen. Insamlingen "
          "av hushållsavfall sköts av renhållningsenheten, som hör till tekniska förvaltningen."),
    ("h2", "Sortera ditt avfall"),
    ("p", "Villor och fritidshus har två kärl: ett kärl med två fack för matavfall och restavfall, och "
          "ett fyrfackskärl för förpackningar och tidningar. I flerfamiljshus finns gemensamma "
          "miljörum, och fastighetsägaren ansvarar för att det finns kärl för alla sorter."),
    ("p", "Förpackningar av plast, papper, metall och glas sorteras i fyrfackskärlet. Har du inget "
          "fyrfackskärl kan du lämna förpackningarna på någon av kommunens 18 återvinningsstationer."),
    ("h2", "När töms kärlen?"),
    ("p", "Kärlet för mat- och restavfall töms varannan vecka. Under juni, juli och augusti töms det "
          "varje vecka, eftersom matavfallet luktar mer när det är varmt."),
    ("p", "Fyrfackskärlet töms var fjärde vecka. Vilken veckodag ditt kärl töms ser du i "
          "tömningskalendern på Mina sidor avfall. Ställ kärlet vid tomtgränsen senast klockan 6 på "
          "tömningsdagen, med handtaget utåt."),
    ("p", "Om ditt kärl inte har tömts ska du anmäla det till kundtjänst senast dagen efter ordinarie "
          "tömningsdag, så kommer vi tillbaka inom två arbetsdagar."),
    ("h2", "Avgifter 2025"),
    ("p", "Avfallsavgiften består av en grundavgift och en hämtningsavgift som beror på kärlets storlek "
          "och hur ofta det töms. Avgifterna finansierar hela verksamheten och beslutas av "
          "kommunfullmäktige."),
    ("row", "Abonnemang | Grundavgift per år | Hämtningsavgift per år"),
    ("row", "Villa, 140 liter varannan vecka | 1 150 kr | 1 420 kr"),
    ("row", "Villa, 190 liter varannan vecka | 1 150 kr | 1 860 kr"),
    ("row", "Fritidshus, maj–september | 620 kr | 780 kr"),
    ("row", "Lägenhet, per lägenhet | 690 kr | 540 kr"),
    ("p", "Den som komposterar sitt matavfall i en sluten och isolerad behållare på tomten kan efter "
          "anmälan få hämtning var fjärde vecka och betalar då 35 procent lägre hämtningsavgift."),
    ("p", "Extra hämtning av en säck som står bredvid kärlet kostar 150 kronor per tillfälle."),
    ("p", "Vill du byta kärlstorlek eller hur ofta kärlet töms gör du det på Mina sidor avfall. "
          "Ändringen gäller från månaden efter att vi har fått din anmälan."),
    ("h2", "Återvinningscentralen Norrängen"),
    ("p", "Återvinningscentralen ligger på Norrängsvägen 12, strax norr om industriområdet Hagen. Det "
          "är gratis för privatpersoner att lämna sorterat avfall vid tolv besök per år med personbil, "
          "med eller utan släpvagn."),
    ("p", "På återvinningscentralen kan du lämna"),
    ("li", "grovavfall som möbler, mattor och cyklar,"),
    ("li", "trädgårdsavfall och ris,"),
    ("li", "elavfall, lysrör och lampor,"),
    ("li", "farligt avfall i miljöstationen,"),
    ("li", "kläder, leksaker och husgeråd till återbruket."),
    ("p", "Öppettider:"),
    ("row", "Dag | Öppet"),
    ("row", "Måndag–torsdag | 7–19"),
    ("row", "Fredag | 7–16"),
    ("row", "Lördag | 9–15"),
    ("row", "Söndag | Stängt"),
    ("p", "På röda dagar och midsommarafton är återvinningscentralen stängd."),
    ("h2", "Grovavfall"),
    ("p", "Grovavfall är sådant som är för stort eller för tungt för soppåsen. Du kan köra det till "
          "återvinningscentralen själv eller beställa hämtning vid fastigheten."),
    ("p", "Så här beställer du hämtning:"),
    ("li", "Logga in på Mina sidor avfall eller ring kundtjänst."),
    ("li", "Välj en hämtdag bland de tider som erbjuds, normalt inom tio arbetsdagar."),
    ("li", "Ställ ut sakerna vid tomtgränsen kvällen före hämtdagen, märkta med en lapp där det står "
           "Grovavfall."),
    ("p", "Hämtning av grovavfall kostar 400 kronor för upp till fem kolli. Kylskåp, frysar och spisar "
          "hämtas utan extra kostnad."),
    ("h2", "Farligt avfall"),
    ("p", "Färgrester, lösningsmedel, bekämpningsmedel, sprayburkar och batterier är farligt avfall och "
          "får aldrig slängas i kärlet."),
    ("p", "Lämna farligt avfall i miljöstationen på återvinningscentralen eller till miljöbilen. "
          "Miljöbilen står vid Coop i Lillby den första tisdagen varje månad klockan 17–19."),
    ("h2", "Trasigt eller försvunnet kärl"),
    ("p", "Kärlen ägs av kommunen. Om ditt kärl har gått sönder eller försvunnit beställer du ett nytt "
          "på Mina sidor avfall. Ett kärl som har skadats vid tömningen byts utan kostnad; i andra fall "
          "kostar ett nytt kärl 450 kronor."),
    ("p", "Håll vägen fram till kärlet fri från snö och is på vintern, så att chauffören kan komma fram "
          "utan risk att halka."),
    ("h2", "Kontakt"),
    ("p", "Kundtjänst avfall har telefon 0123-45 69 00 och svarar vardagar klockan 8–16, med "
          "lunchstängt klockan 12–13."),
]

FORSKOLA: list[Block] = [
    ("h1", "Förskola och fritidshem – regler för plats och avgift"),
    ("p", "Reglerna gäller från den 1 januari 2025 och är beslutade av barn- och utbildningsnämnden den "
          "10 december 2024."),
    ("h2", "Vem kan få plats?"),
    ("p", "Barn som är folkbokförda i Exempelkommunen har rätt till förskola från ett års ålder om "
          "vårdnadshavarna arbetar, studerar eller söker arbete. Barn vars vårdnadshavare är "
          "föräldralediga med ett syskon eller arbetslösa har rätt till förskola 15 timmar i veckan."),
    ("p", "Från höstterminen det år barnet fyller tre år erbjuds allmän förskola 525 timmar per år utan "
          "avgift. Den allmänna förskolan följer skolans läsår och är förlagd till måndag–torsdag "
          "klockan 8.30–11.30."),
    ("p", "Fritidshem erbjuds elever i förskoleklass till och med årskurs 3 vars vårdnadshavare arbetar "
          "eller studerar. Elever i årskurs 4–6 kan i stället gå på öppen fritidsverksamhet, som är "
          "avgiftsfri och inte kräver anmälan."),
    ("h2", "Ansökan och köregler"),
    ("p", "Ansökan om plats görs i e-tjänsten Skolportalen tidigast sex månader och senast fyra "
          "månader innan barnet behöver platsen. Kommunen är skyldig att erbjuda plats inom fyra "
          "månader från den dag ansökan kom in."),
    ("p", "Platserna fördelas i följande turordning:"),
    ("li", "barn som har behov av särskilt stöd enligt skollagen,"),
    ("li", "syskon till barn som redan går på förskolan,"),
    ("li", "ködatum, det vill säga den dag ansökan kom in."),
    ("p", "Du kan önska upp till tre förskolor. Om ingen av dem har plats erbjuds en plats på en annan "
          "förskola inom fem kilometer från hemmet. Tackar du nej till erbjuden plats tas barnet bort "
          "ur kön."),
    ("p", "Ett barn som har haft feber eller kräkts ska vara hemma tills det har varit friskt i ett "
          "dygn, så att smittan inte sprids till andra barn och till personalen."),
    ("h2", "Inskolning"),
    ("p", "De flesta förskolor använder föräldraaktiv inskolning, där en vårdnadshavare är med i "
          "verksamheten under tre till fem dagar innan barnet stannar på egen hand. Förskolan kontaktar "
          "er några veckor före startdatum för att bestämma hur inskolningen ska läggas upp."),
    ("h2", "Avgift enligt maxtaxan"),
    ("p", "Avgiften är en procentandel av hushållets sammanlagda bruttoinkomst per månad, men aldrig "
          "högre än maxtaxan. Inkomsttaket är 59 200 kronor per månad år 2025. Det yngsta barnet "
          "räknas som barn 1."),
    ("row", "Barn | Förskola | Fritidshem"),
    ("row", "Barn 1 | 3 %, högst 1 776 kr | 2 %, högst 1 184 kr"),
    ("row", "Barn 2 | 2 %, högst 1 184 kr | 1 %, högst 592 kr"),
    ("row", "Barn 3 | 1 %, högst 592 kr | 1 %, högst 592 kr"),
    ("row", "Barn 4 och fler | Ingen avgift | Ingen avgift"),
    ("p", "Avgift betalas för tolv månader om året, även när barnet är ledigt eller sjukt."),
    ("p", "Uppgift om hushållets inkomst lämnas i Skolportalen innan barnet börjar, och ändringar ska "
          "anmälas direkt. Kommunen kontrollerar inkomsterna i efterhand mot uppgifter från "
          "Skatteverket. Har du betalat för lite får du en efterdebitering."),
    ("h2", "Schema och öppettider"),
    ("p", "Förskolor och fritidshem har öppet vardagar klockan 6.30–18.30. Barnets vistelsetid ska "
          "motsvara vårdnadshavarnas arbetstid eller studietid, inklusive restid. Ett nytt schema "
          "lämnas i Skolportalen senast två veckor innan det ska börja gälla."),
    ("p", "Fyra dagar per år är förskolorna stängda för planering och kompetensutveckling. Då erbjuds "
          "plats på en jourförskola för barn vars vårdnadshavare inte kan ordna annan omsorg."),
    ("h2", "Måltider och allergier"),
    ("p", "Förskolan serverar frukost, lunch och mellanmål. Barn som behöver specialkost på grund av "
          "allergi eller sjukdom får det sedan vårdnadshavaren har lämnat ett läkarintyg till "
          "förskolan. Vegetarisk kost och kost av religiösa skäl ordnas utan intyg."),
    ("h2", "Omsorg på obekväm tid"),
    ("p", "Nattis, det vill säga omsorg på kvällar, nätter och helger, finns på förskolan Solrosen på "
          "Björkvägen 4. Den som behöver omsorg på obekväm tid ansöker särskilt och bifogar "
          "arbetsgivarens intyg om arbetstiderna."),
    ("h2", "Uppsägning"),
    ("p", "Platsen sägs upp i Skolportalen med två månaders uppsägningstid. Avgift betalas under "
          "uppsägningstiden även om barnet inte längre går kvar."),
]

BYGGLOV: list[Block] = [
    ("h1", "Bygglov – när behövs det och hur går det till?"),
    ("p", "Informationen gäller dig som äger ett en- eller tvåbostadshus i Exempelkommunen. Ansökningar "
          "om bygglov prövas av miljö- och byggnadsnämnden enligt plan- och bygglagen."),
    ("h2", "När behöver du bygglov?"),
    ("p", "Du behöver bygglov för att"),
    ("li", "bygga ett nytt hus eller en tillbyggnad,"),
    ("li", "bygga ett garage, en carport eller ett förråd som är större än ett attefallshus,"),
    ("li", "ändra fasadens kulör, byta fasadmaterial eller byta taktäckning så att husets karaktär "
           "påverkas,"),
    ("li", "sätta upp ett plank eller en mur som är högre än 110 centimeter,"),
    ("li", "ändra användningen av en byggnad, till exempel göra om en lokal till bostad."),
    ("p", "Inom detaljplanerat område krävs bygglov i större utsträckning än utanför. Läs alltid "
          "detaljplanen innan du börjar rita, eftersom den kan bestämma hur högt du får bygga, hur "
          "stor del av tomten som får bebyggas och var på tomten byggnader får stå. Detaljplanerna "
          "finns i kommunens kartportal."),
    ("h2", "Åtgärder som inte kräver bygglov"),
    ("p", "Vissa mindre åtgärder är undantagna från kravet på bygglov, till exempel"),
    ("li", "en friggebod på högst 15 kvadratmeter som är högst 3 meter hög,"),
    ("li", "en altan som är lägre än 1,2 meter över marken och ligger minst 4,5 meter från "
           "tomtgränsen,"),
    ("li", "underhåll som inte ändrar husets utseende."),
    ("h2", "Attefallshus och attefallsåtgärder"),
    ("p", "Ett attefallshus är en fristående byggnad på högst 30 kvadratmeter som får uppföras utan "
          "bygglov på en tomt med ett en- eller tvåbostadshus. Nockhöjden får vara högst 4,0 meter. "
          "Byggnaden får placeras närmare tomtgränsen än 4,5 meter bara om grannarna skriftligen "
          "godkänner det."),
    ("p", "Även om ett attefallshus inte kräver bygglov måste du göra en anmälan och få ett startbesked "
          "innan du börjar bygga. Skälet är att nämnden ska kunna kontrollera att byggnaden uppfyller "
          "kraven på bärförmåga, brandskydd och avstånd till grannar."),
    ("p", "Utan bygglov får du också göra en tillbyggnad på högst 15 kvadratmeter, bygga två takkupor "
          "eller inreda ytterligare en bostad i ett enbostadshus. Även dessa åtgärder ska anmälas."),
    ("h2", "Så går handläggningen till"),
    ("p", "När ansökan kommer in kontrollerar en handläggare att den är komplett. Saknas handlingar får "
          "du ett föreläggande om komplettering."),
    ("p", "Nämnden ska fatta beslut inom tio veckor från det att ansökan är komplett. Tiden kan "
          "förlängas en gång med högst tio veckor om ärendet är komplicerat. De flesta ärenden om en- "
          "och tvåbostadshus avgörs inom fyra till sex veckor."),
    ("p", "Om beslutet inte fattas i tid sätts bygglovsavgiften ned med en femtedel för varje påbörjad "
          "vecka som tiden överskrids."),
    ("p", "Grannar och andra berörda får tillfälle att yttra sig om du vill bygga något som avviker "
          "från detaljplanen. Beslutet kungörs i Post- och Inrikes Tidningar, och därefter har den "
          "som berörs fyra veckor på sig att överklaga."),
    ("p", "Ett bygglov upphör att gälla om arbetet inte har påbörjats inom två år och avslutats inom fem "
          "år från den dag då beslutet fick laga kraft."),
    ("h2", "Avgifter"),
    ("p", "Avgiften tas ut enligt den plan- och bygglovstaxa som kommunfullmäktige har beslutat. Den "
          "beror på hur stor åtgärden är och vilka moment som ingår i handläggningen. Exempel på "
          "avgifter 2025:"),
    ("row", "Åtgärd | Avgift"),
    ("row", "Nybyggnad av enbostadshus | 32 400 kr"),
    ("row", "Tillbyggnad upp till 50 kvadratmeter | 12 800 kr"),
    ("row", "Garage eller carport | 8 900 kr"),
    ("row", "Anmälan om attefallshus | 6 200 kr"),
    ("row", "Ändring av fasad | 4 500 kr"),
    ("p", "Avgiften faktureras när beslutet har fattats. Om ansökan avslås tar nämnden ändå ut en "
          "avgift för den handläggning som har gjorts."),
    ("h2", "Rivningslov och marklov"),
    ("p", "För att riva en byggnad eller en del av en byggnad inom detaljplanerat område krävs "
          "rivningslov. Marklov behövs om du vill höja eller sänka marknivån på tomten med mer än en "
          "halv meter, eller fälla träd där detaljplanen kräver det."),
    ("p", "Innan rivningen börjar ska du lämna in en inventering av farligt avfall i byggnaden, till "
          "exempel asbest och PCB, tillsammans med en plan för hur rivningsavfallet ska tas om hand."),
    ("h2", "Att bygga utan lov"),
    ("p", "Den som bygger utan lov eller startbesked får betala en byggsanktionsavgift, som för ett "
          "attefallshus kan uppgå till flera tiotusentals kronor. Nämnden kan också besluta att det "
          "som har byggts ska rivas."),
    ("h2", "Kontakt"),
    ("p", "Bygglovshandläggarna har telefontid måndag–torsdag klockan 9–11 på telefon 0123-45 70 20. "
          "Du kan också boka ett kostnadsfritt rådgivningsmöte i stadshusets kundcenter innan du "
          "skickar in din ansökan."),
]

FARDTJANST: list[Block] = [
    ("h1", "Färdtjänst"),
    ("p", "Färdtjänst är en form av kollektivtrafik för dig som på grund av en funktionsnedsättning har "
          "väsentliga svårigheter att resa med buss och tåg på egen hand. Resorna görs med taxi eller "
          "specialfordon och beställs i förväg."),
    ("h2", "Vem har rätt till färdtjänst?"),
    ("p", "Du kan få färdtjänst om du är folkbokförd i Exempelkommunen och har en funktionsnedsättning "
          "som väntas bestå i minst tre månader. Det är funktionsnedsättningen och inte ålder eller "
          "brist på busslinjer som avgör."),
    ("p", "Barn under tolv år får färdtjänst bara om funktionsnedsättningen gör att de behöver mer hjälp "
          "än andra barn i samma ålder."),
    ("p", "Den som har beviljats färdtjänst kan också få rätt till ledsagare, om du behöver hjälp under "
          "själva resan. Ledsagaren åker utan kostnad. Du får dessutom alltid ta med en medresenär, "
          "som betalar samma avgift som du."),
    ("h2", "Egenavgift"),
    ("p", "Du betalar en egenavgift för varje resa. Avgiften beror på hur lång resan är."),
    ("row", "Reslängd | Egenavgift per enkelresa"),
    ("row", "0–10 km | 45 kr"),
    ("row", "10–20 km | 70 kr"),
    ("row", "20–30 km | 95 kr"),
    ("row", "Över 30 km | 95 kr plus 3 kr per km"),
    ("p", "Resor till och från daglig verksamhet kostar 25 kronor per enkelresa. Barn och ungdomar "
          "under 20 år betalar halv avgift."),
    ("p", "Du betalar med kort eller Swish till föraren. Det finns ett högkostnadsskydd: den som har "
          "gjort fler än 40 enkelresor under en kalendermånad reser avgiftsfritt resten av månaden."),
    ("h2", "Resor"),
    ("p", "Färdtjänsten gäller för resor inom kommunen och till grannkommunerna Norrby och Åsby. Du kan "
          "resa alla dagar mellan klockan 6 och 24."),
    ("p", "Resor till vård som regionen betalar, så kallade sjukresor, är inte färdtjänst och beställs "
          "på annat sätt. Ska du resa till en annan del av Sverige kan du ansöka om riksfärdtjänst "
          "senast tre veckor före resan."),
    ("p", "Har du färdtjänst i en annan kommun och hälsar på i Exempelkommunen kan du resa här med "
          "ditt tillstånd, om din hemkommun har kommit överens med oss om det."),
    ("h2", "Så beställer du en resa"),
    ("p", "Beställ resan hos beställningscentralen på telefon 0771-12 34 56, som är öppen dygnet runt, "
          "eller i appen Färdtjänst Exempel. Beställ så tidigt som möjligt och senast en timme före "
          "önskad avresa."),
    ("p", "När du beställer ska du uppge"),
    ("li", "ditt namn och ditt färdtjänstnummer,"),
    ("li", "adressen du reser från och adressen du reser till,"),
    ("li", "när du vill åka eller när du vill vara framme,"),
    ("li", "om du har med dig rullstol, rollator, ledarhund eller medresenär."),
    ("p", "Föraren hjälper dig i och ur bilen och bär bagaget till och från entrén. Bilen kan komma upp "
          "till 15 minuter efter den tid du har beställt."),
    ("h2", "Under resan"),
    ("p", "Du ska använda bilbälte under hela resan. Du får ta med två bagagekolli och dina hjälpmedel "
          "utan extra kostnad. Större saker, som en cykel eller ett par skidor, får inte tas med."),
    ("h2", "Om något går fel"),
    ("p", "Om bilen är mer än 15 minuter försenad ska du ringa beställningscentralen, som då ordnar en "
          "annan bil. Synpunkter och klagomål på en resa lämnar du till kommunens kontaktcenter eller "
          "i e-tjänsten Synpunkter. Kommunen tar upp varje klagomål med taxibolaget och svarar dig "
          "inom tio arbetsdagar."),
    ("h2", "Så ansöker du"),
    ("p", "Du ansöker i kommunens e-tjänst eller på en blankett som du får från kontaktcenter. Bifoga "
          "gärna ett intyg från läkare eller arbetsterapeut som beskriver hur funktionsnedsättningen "
          "påverkar din förmåga att resa."),
    ("p", "En handläggare kontaktar dig, ofta för ett samtal i hemmet. Beslut fattas normalt inom fyra "
          "veckor. Om du får avslag kan du överklaga till förvaltningsrätten inom tre veckor från den "
          "dag du fick del av beslutet."),
    ("p", "Tillståndet gäller oftast i två till fem år. Kontakta kommunen om ditt behov förändras."),
    ("p", "Färdtjänsthandläggarna nås på telefon 0123-45 71 30 måndag–fredag klockan 8–10."),
]

BIBLIOTEKET: list[Block] = [
    ("p", "Exempelkommunens bibliotek består av Stadsbiblioteket vid Stora torget och filialerna i "
          "Lillby och Åsby. Bokbussen besöker byarna på landsbygden varannan vecka. Alla är välkomna, "
          "och det är gratis att låna."),
    ("h2", "Öppettider"),
    ("row", "Bibliotek | Måndag–torsdag | Fredag | Lördag"),
    ("row", "Stadsbiblioteket | 10–19 | 10–17 | 11–15"),
    ("row", "Lillby bibliotek | 13–18 | 10–14 | Stängt"),
    ("row", "Åsby bibliotek | tisdag och torsdag 14–19 | Stängt | Stängt"),
    ("p", "Från midsommar till och med den 15 augusti har Stadsbiblioteket öppet vardagar klockan 10–16 "
          "och är stängt på lördagar. Filialerna har sommarstängt under juli."),
    ("h2", "Meröppet i Lillby"),
    ("p", "Meröppet betyder att du kan använda biblioteket i Lillby även när det inte finns någon "
          "personal där, alla dagar klockan 7–22. Du kan låna, lämna tillbaka, studera och använda "
          "datorerna."),
    ("p", "För att använda meröppet behöver du"),
    ("li", "vara minst 18 år, eller 15 år med vårdnadshavares godkännande,"),
    ("li", "ha ett giltigt lånekort med pinkod,"),
    ("li", "gå en kort introduktion hos personalen och skriva under ett avtal."),
    ("h2", "Lånekort"),
    ("p", "Lånekort får du i informationsdisken mot uppvisande av giltig legitimation. Barn under 15 år "
          "får lånekort om en vårdnadshavare skriver under. Lånekortet är gratis, men ett nytt kort "
          "kostar 20 kronor om du har tappat bort det gamla."),
    ("h2", "Lånetider och omlån"),
    ("p", "Lånetiden är 28 dagar för de flesta böcker och ljudböcker. Filmer och populära nyheter lånas "
          "i 14 dagar. Du kan ha upp till 50 lån samtidigt."),
    ("p", "Du kan låna om dina böcker tre gånger på webben eller i appen, om ingen annan har reserverat "
          "dem. Det är gratis att reservera."),
    ("h2", "Förseningsavgifter och ersättning"),
    ("p", "Sedan den 1 januari 2024 tar biblioteket inte ut några förseningsavgifter. Om du inte har "
          "lämnat tillbaka ett lån fem veckor efter sista lånedagen spärras ditt lånekort, och du får "
          "en räkning på ersättning för det du har lånat."),
    ("p", "Förlorade eller skadade medier ersätts med 300 kronor för en vuxenbok, 150 kronor för en "
          "barnbok och 400 kronor för en film eller ett tv-spel."),
    ("h2", "Bokbussen och Boken kommer"),
    ("p", "Bokbussen har hållplatser i bland annat Ekeby, Tallnäs och Stensjö. Tidtabellen finns under "
          "Bokbussen på bibliotekets webbplats. Bussen har en lyft för rullstol och ett urval av "
          "barnböcker, ljudböcker och filmer."),
    ("p", "Den som inte själv kan ta sig till biblioteket på grund av sjukdom, funktionsnedsättning "
          "eller hög ålder kan få böcker hemkörda genom tjänsten Boken kommer, som är kostnadsfri."),
    ("h2", "Läxhjälp och språkcafé"),
    ("p", "Varje tisdag och torsdag klockan 15–17 under terminerna har Stadsbiblioteket gratis läxhjälp "
          "för elever i årskurs 4–9. Läxhjälpen drivs tillsammans med ett studieförbund och frivilliga "
          "från Röda Korset, och ingen anmälan behövs."),
    ("p", "På språkcaféet kan du som lär dig svenska öva på att prata i en avslappnad miljö. "
          "Språkcaféet träffas på måndagar klockan 17–19 i caféet på entréplanet."),
    ("h2", "Tillgänglighet"),
    ("p", "Alla bibliotek går att besöka med rullstol, och Stadsbiblioteket har hörslinga i "
          "informationsdisken och i hörsalen. Den som har svårt att läsa tryckt text kan låna "
          "talböcker och få hjälp att lyssna på dem i mobilen."),
    ("h2", "Studieplatser och evenemang"),
    ("p", "I Stadsbiblioteket finns en tyst läsesal på plan 2 med 40 studieplatser, och fyra grupprum "
          "som kan bokas."),
    ("p", "Varje onsdag klockan 10 är det sagostund för barn mellan 2 och 5 år i barnavdelningen på "
          "Stadsbiblioteket."),
    ("p", "Du kan skriva ut och kopiera på alla bibliotek. En utskrift kostar 2 kronor per sida i "
          "svartvitt och 5 kronor i färg."),
    ("p", "Frågor besvaras i informationsdisken eller på telefon 0123-45 72 00 under bibliotekets "
          "öppettider."),
]

BUDGET: list[list[Block]] = [
    [
        ("h1", "Budget 2026 med plan för 2027–2028"),
        ("p", "Beslutad av kommunfullmäktige den 24 november 2025, § 118."),
        ("h2", "Sammanfattning"),
        ("p", "Exempelkommunens budget för 2026 omfattar kostnader på 2 480 miljoner kronor för den "
              "löpande verksamheten. Resultatet beräknas till 42 miljoner kronor, vilket motsvarar "
              "1,7 procent av skatteintäkter och generella statsbidrag, vilket är lägre än det "
              "finansiella målet."),
        ("p", "Befolkningen väntas öka med omkring 300 personer per år och uppgå till 36 500 invånare vid "
              "utgången av 2026. Det är framför allt antalet invånare över 80 år som ökar, medan antalet "
              "barn i förskoleåldern minskar något."),
        ("p", "Nämnderna får ett generellt effektiviseringskrav på 1 procent, eftersom kostnaderna för "
              "äldreomsorgen ökar snabbare än skatteintäkterna. Samtidigt behöver kommunen investera i "
              "nya förskolor i de områden som växer och i ett nytt reningsverk."),
        ("p", "För 2026 har fullmäktige beslutat om fem prioriterade mål för verksamheten: fler invånare "
              "i egen försörjning, högre måluppfyllelse i grundskolan, en trygg äldreomsorg, minskade "
              "utsläpp av växthusgaser och en effektiv förvaltning. Varje nämnd ska i sin "
              "verksamhetsplan visa hur den bidrar till målen."),
        ("h2", "Skattesats"),
        ("p", "Skattesatsen lämnas oförändrad på 21,84 kronor per hundralapp. Tillsammans med regionens "
              "skatt på 11,83 kronor blir den sammanlagda skattesatsen för invånarna 33,67 kronor."),
        ("p", "En höjning av skattesatsen med 10 öre skulle ge ungefär 7 miljoner kronor i ökade "
              "intäkter. Majoriteten har valt att inte höja skatten, eftersom hushållens ekonomi "
              "fortfarande är pressad efter flera år av höga priser."),
    ],
    [
        ("h2", "Nämndernas ramar"),
        ("p", "Kommunfullmäktige fördelar pengar till nämnderna i form av ramar. Ramarna för 2026 "
              "framgår av tabellen."),
        ("row", "Nämnd | Ram 2026, mnkr | Förändring mot 2025"),
        ("row", "Barn- och utbildningsnämnden | 1 012,5 | +2,8 %"),
        ("row", "Socialnämnden | 864,0 | +4,6 %"),
        ("row", "Samhällsbyggnadsnämnden | 188,3 | +1,2 %"),
        ("row", "Kommunstyrelsen | 174,1 | +2,0 %"),
        ("row", "Kultur- och fritidsnämnden | 96,7 | +0,9 %"),
        ("row", "Miljö- och byggnadsnämnden | 21,4 | +1,5 %"),
        ("p", "Socialnämnden får den största ökningen, 38 miljoner kronor, för att möta behovet av "
              "hemtjänst och platser i särskilt boende. Barn- och utbildningsnämndens ram ökar mindre "
              "än lönerna, eftersom antalet barn i förskolan minskar."),
        ("p", "Kultur- och fritidsnämndens ram omfattar även driften av den renoverade simhallen från "
              "hösten 2026."),
        ("h2", "Investeringar"),
        ("p", "Investeringsbudgeten för 2026 uppgår till 410 miljoner kronor. De största projekten är"),
        ("li", "ett nytt reningsverk i Norrby, 145 miljoner kronor under 2026 och totalt 520 miljoner "
               "kronor fram till 2029,"),
        ("li", "förskolan Ängen med tio avdelningar, 68 miljoner kronor,"),
        ("li", "renovering av simhallen, 54 miljoner kronor,"),
        ("li", "en gång- och cykelväg mellan Lillby och centrum, 22 miljoner kronor,"),
        ("li", "byte av gatubelysningen till LED-armaturer, 12 miljoner kronor."),
        ("p", "Investeringarna finansieras till 60 procent med egna medel och till resten med nya lån. "
              "Låneskulden väntas därmed öka med 160 miljoner kronor under året."),
    ],
    [
        ("h2", "Risker och osäkerheter"),
        ("p", "Budgeten bygger på den skatteunderlagsprognos som Sveriges Kommuner och Regioner "
              "publicerade i oktober 2025. De största riskerna för 2026 är"),
        ("li", "att konjunkturen försvagas och skatteintäkterna blir lägre än beräknat,"),
        ("li", "att kostnaderna för placeringar av barn och unga fortsätter att öka,"),
        ("li", "att räntorna stiger och gör lånen till investeringarna dyrare,"),
        ("li", "att det blir svårt att rekrytera sjuksköterskor, lärare och socionomer."),
        ("h2", "Vatten och avlopp"),
        ("p", "Taxan för vatten och avlopp höjs med 8 procent den 1 januari 2026. Höjningen behövs för "
              "att finansiera det nya reningsverket, som krävs för att klara skärpta miljökrav på "
              "utsläppen till Storsjön."),
        ("h2", "Plan för 2027–2028"),
        ("p", "För 2027 och 2028 räknar kommunen med ett resultat på 55 respektive 60 miljoner kronor. "
              "Planen förutsätter att effektiviseringarna fortsätter och att inga nya verksamheter "
              "startas utan full finansiering."),
        ("h2", "Finansiella mål"),
        ("p", "Kommunfullmäktige har fastställt tre finansiella mål för god ekonomisk hushållning:"),
        ("li", "resultatet ska vara minst 2 procent av skatteintäkter och generella statsbidrag i "
               "genomsnitt över fem år,"),
        ("li", "investeringar i skattefinansierad verksamhet ska till minst 60 procent betalas med "
               "egna medel,"),
        ("li", "låneskulden per invånare får inte överstiga 40 000 kronor."),
        ("h2", "Personal"),
        ("p", "Kommunen har omkring 2 900 anställda. Lönerna beräknas öka med 3,2 procent under 2026, "
              "och nämnderna kompenseras för ökningen med 2,5 procent."),
        ("h2", "Uppföljning"),
        ("p", "Kommunstyrelsen följer upp budgeten varje månad utom januari och juli. Delårsrapporten "
              "per den 31 augusti och årsredovisningen behandlas av kommunfullmäktige."),
        ("p", "Nämnderna ska hålla sin budget. En nämnd som visar underskott ska redovisa en "
              "åtgärdsplan till kommunstyrelsen senast i samband med delårsrapporten."),
    ],
]

SKOLSKJUTS: list[Block] = [
    ("h1", "Skolskjuts i Exempelkommunen"),
    ("p", "Riktlinjerna gäller från läsåret 2025/26 och är beslutade av barn- och utbildningsnämnden den "
          "12 maj 2025. De gäller elever i förskoleklass, grundskola och anpassad grundskola som går i "
          "den skola kommunen har placerat dem i."),
    ("h2", "Avståndsregler"),
    ("p", "Eleven har rätt till skolskjuts om avståndet mellan hemmet och skolan är längre än det som "
          "anges i tabellen."),
    ("row", "Årskurs | Avstånd"),
    ("row", "Förskoleklass–årskurs 3 | 2 kilometer"),
    ("row", "Årskurs 4–6 | 3 kilometer"),
    ("row", "Årskurs 7–9 | 4 kilometer"),
    ("p", "Avståndet mäts längs den kortaste gång- eller cykelväg som är framkomlig året runt, från "
          "tomtgränsen vid hemmet till skolans närmaste entré."),
    ("p", "Avståndsreglerna gäller också elever i anpassad grundskola, men för dem görs alltid en "
          "individuell bedömning av behovet."),
    ("p", "Skolskjuts ges i första hand som busskort för linjetrafik. Om det inte finns lämplig "
          "linjetrafik ordnar kommunen skolbuss eller taxi. Eleven kan behöva gå upp till 1 kilometer "
          "till en hållplats i förskoleklass–årskurs 3 och upp till 2 kilometer i årskurs 4–9."),
    ("h2", "Trafikfarlig väg"),
    ("p", "Även elever som bor närmare skolan kan få skolskjuts om vägen är trafikfarlig. Kommunen "
          "bedömer trafiksäkerheten utifrån bland annat hastighet, trafikmängd, om det finns gångbana "
          "och belysning och om eleven måste korsa en större väg."),
    ("p", "Väg 56 mellan Tallnäs och Lillby bedöms som trafikfarlig för elever i förskoleklass till och "
          "med årskurs 6 under hela året."),
    ("h2", "Växelvis boende"),
    ("p", "En elev som bor växelvis lika mycket hos båda vårdnadshavarna i Exempelkommunen kan få "
          "skolskjuts från båda adresserna. Varje adress prövas för sig enligt samma regler. Bor den "
          "ena vårdnadshavaren i en annan kommun har eleven inte rätt till skolskjuts från den "
          "adressen."),
    ("h2", "Skolskjuts till en annan skola än den anvisade"),
    ("p", "Den som själv väljer en annan skola än den kommunen har anvisat har rätt till skolskjuts "
          "bara om det kan ske utan organisatoriska svårigheter eller extra kostnader för kommunen. I "
          "praktiken innebär det att eleven kan åka med en befintlig skolbuss om det finns plats."),
    ("h2", "Elever med funktionsnedsättning"),
    ("p", "Elever som på grund av en funktionsnedsättning inte kan ta sig till skolan på egen hand har "
          "rätt till skolskjuts oavsett avstånd. Till ansökan ska ett intyg från läkare eller annan "
          "sakkunnig bifogas."),
    ("h2", "Tillfällig skolskjuts"),
    ("p", "En elev som tillfälligt inte kan gå eller cykla till skolan, till exempel efter ett "
          "benbrott, kan få skolskjuts med taxi under en begränsad tid. Vårdnadshavaren ansöker i "
          "Skolportalen och bifogar ett läkarintyg som anger hur länge skadan väntas bestå."),
    ("h2", "Så ansöker du"),
    ("p", "Ansökan om skolskjuts görs i Skolportalen. För elever som uppfyller avståndsreglerna och går "
          "i den anvisade skolan behövs ingen ansökan; de får busskort automatiskt före skolstarten."),
    ("p", "Ansökan för nästa läsår ska lämnas senast den 15 april för att skjutsen ska vara ordnad till "
          "höstterminen. Beslut om skolskjuts fattas av skolskjutssamordnaren."),
    ("p", "Gäller beslutet den anvisade skolan kan du överklaga det till förvaltningsrätten. Andra "
          "beslut kan prövas genom laglighetsprövning."),
    ("h2", "Trafiksäkerhet och uppförande"),
    ("p", "Eleven ska vara vid hållplatsen fem minuter före avgångstiden. Bälte ska användas i alla "
          "fordon där det finns."),
    ("p", "Under den mörka delen av året ska eleverna bära reflexväst, eftersom många hållplatser på "
          "landsbygden saknar belysning. Västarna delas ut av skolan vid terminsstarten."),
    ("p", "En elev som upprepade gånger stör ordningen eller utsätter andra för fara kan tillfälligt "
          "stängas av från skolskjutsen. Vårdnadshavarna ansvarar då för att eleven kommer till "
          "skolan."),
    ("h2", "Inställd skolskjuts"),
    ("p", "Vid svårt väglag, till exempel vid kraftigt snöfall eller ishalka, kan skolskjutsen ställas "
          "in. Besked om inställda turer skickas som sms till vårdnadshavarna senast klockan 6.15 samma "
          "morgon. Skolan har öppet som vanligt även när skolskjutsen är inställd."),
    ("p", "Om skolbussen inte har kommit tio minuter efter ordinarie tid ska vårdnadshavaren ringa "
          "skolskjutsjouren på telefon 0123-45 73 40, som är bemannad vardagar klockan 6.30–17."),
]


def write_corpus(folder: Path) -> list[Path]:
    """Write the eight documents into ``folder`` (created if missing); return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        make_pdf(folder / "parkeringspolicy.pdf", PARKERINGSPOLICY,
                 title="Parkeringspolicy för Exempelkommunen"),
        make_html(folder / "avfall_och_atervinning.html", "Avfall och återvinning", AVFALL),
        make_docx(folder / "forskola_och_fritids.docx", FORSKOLA,
                  title="Förskola och fritidshem – regler för plats och avgift"),
        make_odt(folder / "bygglov.odt", BYGGLOV, title="Bygglov"),
        make_markdown(folder / "fardtjanst.md", FARDTJANST),
        make_html(folder / "biblioteket.html", "Biblioteket", BIBLIOTEKET),
        make_pdf(folder / "budget_2026.pdf", BUDGET, title="Budget 2026 med plan för 2027–2028"),
        make_docx(folder / "skolskjuts.docx", SKOLSKJUTS, title="Skolskjuts i Exempelkommunen"),
    ]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.eval.make_kommun_corpus OUTDIR", file=sys.stderr)
        return 2
    for path in write_corpus(Path(argv[0])):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
