// The import page: sign in with a token, upload a file, follow every job live over ONE EventSource,
// and see the wheel the import went into. Everything that comes from a file or the server is put
// into the DOM as text (textContent, text nodes, attribute values), never as markup.

import { WheelView } from "./wheel.js";
import { accountName, linkDecision, tokenClaims } from "./account.js";

// ---------- the page's own texts, in Swedish and English ----------
//
// The server answers in the request's language (Accept-Language, which the browser sends with
// every fetch and EventSource); the page's own texts follow the same choice, made once here from
// navigator.languages: English when the first of "sv" and "en" found there is "en", Swedish
// otherwise (as the server does). A text is a string with {name} slots, or {one, other} for a
// count ({n} is the count, grouped the language's way). Filled in as text, never as markup.

const TEXTS = {
  sv: {
    "page.title": "Importera aktiviteter – Årshjul",
    "page.heading": "Importera aktiviteter",
    "page.logout": "Logga ut",
    "signin.heading": "Logga in",
    "signin.hint.before": "Klistra in din åtkomsttoken (JWT), eller öppna länken som ",
    "signin.hint.after": " skriver ut.",
    "signin.label": "Åtkomsttoken",
    "signin.submit": "Logga in",
    "signin.expired": "Din token är ogiltig eller har gått ut. Logga in igen.",
    "current.receipt": "Så blev filens rader",
    "current.split": "Aktiviteter som går över ett årsskifte delas i en del per år, på varje års sida. Därför kan hjulet få fler aktiviteter än filen har rader.",
    "current.fix.lead": "Rätta och importera igen:",
    "current.fix.text": " hämta errors.csv, rätta cellerna (i Excel går det bra) och släpp filen här igen under Ny import. Kolumnerna Rad och Orsak läses inte.",
    "action.cancel": "Avbryt import",
    "action.retry": "Försök igen",
    "action.showRetry": "Visa nya försöket",
    "action.openWheel": "Öppna hjulet",
    "action.errors": "Hämta errors.csv",
    "action.errorsShort": "errors.csv",
    "action.show": "Visa",
    "wheel.heading": "Årshjulet",
    "wheel.headingOf": "Årshjulet {wheel}",
    "wheel.close": "Stäng",
    "wheel.tabs": "Sidor, ett år per sida",
    "wheel.svgTitle": "Årshjul",
    "wheel.groups": "Aktivitetsgrupper",
    "wheel.groupsPick": "välj en för att visa bara den",
    "wheel.search": "Sök bland aktiviteterna",
    "wheel.searchHint": "Namn, grupp, ring, etikett, beskrivning…",
    "wheel.showAll": "Visa alla",
    "wheel.caption": "Aktiviteterna i hjulet",
    "wheel.colItem": "Aktivitet",
    "wheel.colDate": "Datum",
    "wheel.colGroup": "Grupp och ring",
    "wheel.colLabel": "Etikett",
    "wheel.prev": "Föregående",
    "wheel.next": "Nästa",
    "wheel.loading": "Hämtar hjulets aktiviteter...",
    "wheel.empty": "Hjulet har inga aktiviteter ännu. Importera en fil för att fylla det.",
    "wheel.status": "{items} på {pages}. Klicka i hjulet för att se vad en ring har en viss dag.",
    "wheel.gone": "ett hjul som inte finns kvar",
    "wheel.drawing": "Årshjul {year}: {items} i {rings} och {groups}. Tabellen bredvid listar dem.",
    "wheel.rings": "Ringar, utifrån och in:",
    "wheel.arcTitle": "{group} i {ring}: {n}",
    "wheel.noMatch": "Inga aktiviteter matchar.",
    "wheel.noItems": "Inga aktiviteter på den här sidan.",
    "wheel.range": "{first}–{last} av {total}",
    "wheel.ofYear": " (av {all} detta år)",
    "wheel.filterGroup": "gruppen {group}",
    "wheel.filterSpot": "{date} i ringen {ring}",
    "wheel.filter": "Visar {parts}",
    "wheel.months": ["jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"],
    "upload.heading": "Ny import",
    "upload.wheel": "Årshjul",
    "upload.showWheel": "Visa hjulet",
    "upload.newWheel": "Nytt hjul",
    "upload.title": "Titel",
    "upload.year": "År",
    "upload.create": "Skapa hjul",
    "upload.file": "Fil",
    "upload.pick": "Välj fil…",
    "upload.drop": "eller släpp den här",
    "upload.kinds": "CSV, TSV, TXT, Excel (xlsx, xls) eller OpenDocument (ods)",
    "upload.hint": "Du får se vad filen blir innan något sparas: kolumner, datum, antal och hjulet.",
    "upload.noWheels": "Inga hjul – skapa ett",
    "upload.needTitle": "Ange titel och år för det nya hjulet.",
    "upload.oneFile": "Släpp en fil i taget.",
    "upload.chooseWheel": "Välj eller skapa ett årshjul först.",
    "upload.progress": "Laddar upp {percent} %…",
    "upload.reading": "Läser filen…",
    "http.status": "Servern svarade {status}.",
    "http.network": "Kunde inte nå servern.",
    "review.heading": "Granska importen",
    "review.sheet": "Kalkylblad",
    "review.dateOrder": "Datumordning",
    "review.dayFirst": " Dagen först (31/12/2025, 4/3 = 4 mars)",
    "review.monthFirst": " Månaden först (12/31/2025, 4/3 = 3 april)",
    "review.columns": "Kolumner och fält",
    "review.colColumn": "Kolumn i filen, med exempel",
    "review.colField": "Blir",
    "review.wheel": "Så blir hjulet",
    "review.search": "Sök bland de planerade aktiviteterna",
    "review.firstItems": "De första aktiviteterna",
    "review.colRow": "Rad",
    "review.colColumnShort": "Kolumn",
    "review.colReason": "Orsak",
    "review.colCells": "Radens celler",
    "review.mode": "Läge",
    "review.append": " Lägg till i hjulet",
    "review.replace": " Ersätt hjulets innehåll",
    "review.skip": " Hoppa över aktiviteter som redan finns i hjulet",
    "review.submit": "Importera",
    "review.cancel": "Avbryt",
    "review.recount": "Räknar om…",
    "review.where": "Till {wheel}. Ingenting sparas förrän du trycker Importera.",
    "review.changeFailed": "Ändringen gick inte: {message}",
    "review.factFormat": "Format",
    "review.factEncoding": "Teckenkodning",
    "review.factDelimiter": "Avgränsare",
    "review.factSheet": "Blad",
    "review.factHeader": "Rubrikrad",
    "review.factOrder": "Datumordning",
    "review.factRows": "Rader",
    "review.headerRow": "rad {row}",
    "review.sampled": "{rows} lästa (filen är stor: antalen gäller dem)",
    "review.assumed": "Alla datum kan läsas på två sätt. Kontrollera datumen nedan och byt om de blev fel.",
    "review.columnField": "Fält för kolumnen {column}",
    "review.noHeader": "(kolumn {n} utan rubrik)",
    "review.nothingToDraw": "Filen ger inga aktiviteter att rita.",
    "review.drawnFirst": "Ritat med de första {shown} av {total} aktiviteter, som de hamnar i hjulet.",
    "review.drawnOne": "Aktiviteten, som den hamnar i hjulet.",
    "review.drawnAll": "Alla {shown} aktiviteterna, som de hamnar i hjulet.",
    "review.drawnDuplicates": " De som redan finns i hjulet är med här men hoppas över om du inte väljer annat nedan.",
    "review.captionFirst": "De första {shown} aktiviteterna",
    "review.captionAll": "Aktiviteterna",
    "review.rejectedFirst": "{rejected} – de första {shown} med orsak",
    "review.rejectedAll": "{rejected} – rad och orsak",
    "count.rings": { one: "{n} ring", other: "{n} ringar" },
    "count.newRings": { one: "{n} ny ring", other: "{n} nya ringar" },
    "count.groups": { one: "{n} grupp", other: "{n} grupper" },
    "count.newGroups": { one: "{n} ny grupp", other: "{n} nya grupper" },
    "count.labels": { one: "{n} etikett", other: "{n} etiketter" },
    "count.newLabels": { one: "{n} ny etikett", other: "{n} nya etiketter" },
    "count.new": { one: "{n} ny", other: "{n} nya" },
    "count.pages": { one: "{n} sida", other: "{n} sidor" },
    "count.newPages": { one: "{n} ny sida", other: "{n} nya sidor" },
    "count.items": { one: "{n} aktivitet", other: "{n} aktiviteter" },
    "count.split": ", {n} delas vid årsskiftet",
    "count.rejected": { one: "{n} rad avvisas", other: "{n} rader avvisas" },
    "count.duplicatesSkipped": "{n} finns redan och hoppas över",
    "count.duplicatesKept": "{n} finns redan och importeras igen",
    "field.name": "Namn (aktivitet)",
    "field.start": "Startdatum",
    "field.end": "Slutdatum",
    "field.ring": "Ring",
    "field.group": "Aktivitetsgrupp",
    "field.label": "Etikett",
    "field.description": "Beskrivning",
    "field.ignore": "Ignorera (läses inte)",
    "field.none": "Inget fält (i beskrivningen)",
    "field.skip": "Läses inte",
    "kind.csv": "Text (CSV)",
    "kind.xlsx": "Excel (xlsx)",
    "kind.xls": "Excel 97–2003 (xls)",
    "kind.ods": "OpenDocument (ods)",
    "kind.json": "JSON",
    "delimiter.comma": "komma (,)",
    "delimiter.semicolon": "semikolon (;)",
    "delimiter.tab": "tabb",
    "delimiter.pipe": "lodstreck (|)",
    "order.data": "Filens datum visar ordningen.",
    "order.layout": "Filens format visar ordningen.",
    "order.default": "Datumen kan läsas på två sätt; dagen först antogs.",
    "order.request": "Du valde ordningen.",
    "order.day_first": "dagen före månaden",
    "order.month_first": "månaden före dagen",
    "jobs.heading": "Dina importer",
    "jobs.live": "Direktuppdatering",
    "jobs.wheel": "Hjul",
    "jobs.allWheels": "Alla hjul",
    "jobs.status": "Status",
    "jobs.all": "Alla",
    "jobs.none": "Inga importer ännu.",
    "jobs.noMatch": "Inga importer matchar filtret.",
    "jobs.more": "Visa fler",
    "jobs.progressOf": "Förlopp för {file}",
    "jobs.retried": "Har körts igen.",
    "jobs.saved": { one: "{n} aktivitet sparade", other: "{n} aktiviteter sparade" },
    "jobs.skipped": ", {n} fanns redan",
    "jobs.rejected": { one: ", {n} rad avvisade", other: ", {n} rader avvisade" },
    "jobs.failed": "Misslyckades",
    "jobs.nothingSaved": " Ingenting sparades.",
    "jobs.cancelled": "Avbruten – ingenting sparades.",
    "jobs.cancelling": "Avbryts – ingenting sparas.",
    "jobs.rows": "{done} / {total} rader",
    "status.pending": "Väntar",
    "status.processing": "Importerar",
    "status.cancelling": "Avbryter",
    "status.completed": "Klar",
    "status.failed": "Misslyckades",
    "status.cancelled": "Avbruten",
    "mode.append": "Lägg till",
    "mode.replace": "Ersätt",
    "title.completed": "Import klar!",
    "title.failed": "Import misslyckades",
    "title.cancelled": "Import avbruten",
    "title.cancelling": "Avbryter import...",
    "title.processing": "Importerar data...",
    "title.started": "Import startad",
    "eta.soon": "Mindre än 1 minut kvar...",
    "eta.minute": "Cirka 1 minut kvar...",
    "eta.minutes": "Cirka {minutes} minuter kvar...",
    "current.nothingSaved": "Ingenting sparades – hjulet är som före importen.",
    "current.cancelling": "Importen avbryts; ingenting av den sparas.",
    "current.noStructure": "Inga nya ringar, grupper eller etiketter: filens fanns redan i hjulet.",
    "current.failed": "Import misslyckades",
    "current.retried": "Importen har redan körts igen.",
    "receipt.saved": { one: "aktivitet sparad i hjulet", other: "aktiviteter sparade i hjulet" },
    "receipt.skipped": "fanns redan i hjulet och hoppades över",
    "receipt.pieces": "extra delar: aktiviteter över ett årsskifte, en del per år",
    "receipt.rejected": { one: "rad avvisades", other: "rader avvisades" },
    "receipt.rows": { one: "rad i filen", other: "rader i filen" },
    "receipt.someRejected": { one: "{n} rad kunde inte importeras: se errors.csv för rad och orsak.", other: "{n} rader kunde inte importeras: se errors.csv för rad och orsak." },
    "receipt.allRows": "Alla rader i filen blev aktiviteter.",
    "confirm.heading": "Ersätta hjulets innehåll?",
    "confirm.text": "Alla ringar, grupper, etiketter och aktiviteter i hjulet byts mot filens. Den gamla datan ligger kvar tills den nya är helt inläst; misslyckas eller avbryts importen ändras ingenting.",
    "confirm.no": "Avbryt",
    "confirm.yes": "Ersätt",
    "account.signedInAs": "Inloggad som",
    "account.unknown": "ett okänt konto",
    "switch.heading": "Byta konto?",
    "switch.current": "Du är inloggad som",
    "switch.other": "Länken du öppnade loggar in som",
    "switch.hint": "Byt bara om länken är till dig. Den som har skickat en länk till sitt eget konto ser allt du importerar där.",
    "switch.no": "Behåll mitt konto",
    "switch.yes": "Byt konto",
  },
  en: {
    "page.title": "Import activities – Year wheel",
    "page.heading": "Import activities",
    "page.logout": "Sign out",
    "signin.heading": "Sign in",
    "signin.hint.before": "Paste your access token (JWT), or open the link that ",
    "signin.hint.after": " prints.",
    "signin.label": "Access token",
    "signin.submit": "Sign in",
    "signin.expired": "Your token is invalid or has expired. Sign in again.",
    "current.receipt": "What became of the file's rows",
    "current.split": "An activity that crosses a year end is split into one part per year, on each year's page. So the wheel can get more activities than the file has rows.",
    "current.fix.lead": "Correct and import again:",
    "current.fix.text": " download errors.csv, correct the cells (Excel will do) and drop the file here again under New import. Its Rad (row) and Orsak (reason) columns are not read.",
    "action.cancel": "Cancel import",
    "action.retry": "Try again",
    "action.showRetry": "Show the new attempt",
    "action.openWheel": "Open the wheel",
    "action.errors": "Download errors.csv",
    "action.errorsShort": "errors.csv",
    "action.show": "Show",
    "wheel.heading": "The year wheel",
    "wheel.headingOf": "The year wheel {wheel}",
    "wheel.close": "Close",
    "wheel.tabs": "Pages, one year per page",
    "wheel.svgTitle": "Year wheel",
    "wheel.groups": "Activity groups",
    "wheel.groupsPick": "pick one to show only that one",
    "wheel.search": "Search the activities",
    "wheel.searchHint": "Name, group, ring, label, description…",
    "wheel.showAll": "Show all",
    "wheel.caption": "The activities in the wheel",
    "wheel.colItem": "Activity",
    "wheel.colDate": "Date",
    "wheel.colGroup": "Group and ring",
    "wheel.colLabel": "Label",
    "wheel.prev": "Previous",
    "wheel.next": "Next",
    "wheel.loading": "Fetching the wheel's activities...",
    "wheel.empty": "The wheel has no activities yet. Import a file to fill it.",
    "wheel.status": "{items} on {pages}. Click in the wheel to see what a ring holds on a given day.",
    "wheel.gone": "a wheel that no longer exists",
    "wheel.drawing": "Year wheel {year}: {items} in {rings} and {groups}. The table beside it lists them.",
    "wheel.rings": "Rings, from the outside in:",
    "wheel.arcTitle": "{group} in {ring}: {n}",
    "wheel.noMatch": "No activities match.",
    "wheel.noItems": "No activities on this page.",
    "wheel.range": "{first}–{last} of {total}",
    "wheel.ofYear": " (of {all} this year)",
    "wheel.filterGroup": "the group {group}",
    "wheel.filterSpot": "{date} in the ring {ring}",
    "wheel.filter": "Showing {parts}",
    "wheel.months": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    "upload.heading": "New import",
    "upload.wheel": "Year wheel",
    "upload.showWheel": "Show the wheel",
    "upload.newWheel": "New wheel",
    "upload.title": "Title",
    "upload.year": "Year",
    "upload.create": "Create wheel",
    "upload.file": "File",
    "upload.pick": "Choose a file…",
    "upload.drop": "or drop it here",
    "upload.kinds": "CSV, TSV, TXT, Excel (xlsx, xls) or OpenDocument (ods)",
    "upload.hint": "You see what the file becomes before anything is saved: columns, dates, counts and the wheel.",
    "upload.noWheels": "No wheels – create one",
    "upload.needTitle": "Give the new wheel a title and a year.",
    "upload.oneFile": "Drop one file at a time.",
    "upload.chooseWheel": "Choose or create a year wheel first.",
    "upload.progress": "Uploading {percent} %…",
    "upload.reading": "Reading the file…",
    "http.status": "The server answered {status}.",
    "http.network": "Could not reach the server.",
    "review.heading": "Review the import",
    "review.sheet": "Sheet",
    "review.dateOrder": "Date order",
    "review.dayFirst": " Day first (31/12/2025, 4/3 = 4 March)",
    "review.monthFirst": " Month first (12/31/2025, 4/3 = 3 April)",
    "review.columns": "Columns and fields",
    "review.colColumn": "Column in the file, with examples",
    "review.colField": "Becomes",
    "review.wheel": "How the wheel will look",
    "review.search": "Search the planned activities",
    "review.firstItems": "The first activities",
    "review.colRow": "Row",
    "review.colColumnShort": "Column",
    "review.colReason": "Reason",
    "review.colCells": "The row's cells",
    "review.mode": "Mode",
    "review.append": " Add to the wheel",
    "review.replace": " Replace the wheel's contents",
    "review.skip": " Skip activities the wheel already has",
    "review.submit": "Import",
    "review.cancel": "Cancel",
    "review.recount": "Recounting…",
    "review.where": "Into {wheel}. Nothing is saved until you press Import.",
    "review.changeFailed": "The change did not go through: {message}",
    "review.factFormat": "Format",
    "review.factEncoding": "Encoding",
    "review.factDelimiter": "Separator",
    "review.factSheet": "Sheet",
    "review.factHeader": "Header row",
    "review.factOrder": "Date order",
    "review.factRows": "Rows",
    "review.headerRow": "row {row}",
    "review.sampled": "{rows} read (the file is large: the counts are theirs)",
    "review.assumed": "Every date can be read two ways. Check the dates below and switch if they came out wrong.",
    "review.columnField": "Field for the column {column}",
    "review.noHeader": "(column {n} without a header)",
    "review.nothingToDraw": "The file gives no activities to draw.",
    "review.drawnFirst": "Drawn with the first {shown} of {total} activities, as they will land in the wheel.",
    "review.drawnOne": "The activity, as it will land in the wheel.",
    "review.drawnAll": "All {shown} activities, as they will land in the wheel.",
    "review.drawnDuplicates": " Those the wheel already has are included here but skipped unless you choose otherwise below.",
    "review.captionFirst": "The first {shown} activities",
    "review.captionAll": "The activities",
    "review.rejectedFirst": "{rejected} – the first {shown} with their reason",
    "review.rejectedAll": "{rejected} – row and reason",
    "count.rings": { one: "{n} ring", other: "{n} rings" },
    "count.newRings": { one: "{n} new ring", other: "{n} new rings" },
    "count.groups": { one: "{n} group", other: "{n} groups" },
    "count.newGroups": { one: "{n} new group", other: "{n} new groups" },
    "count.labels": { one: "{n} label", other: "{n} labels" },
    "count.newLabels": { one: "{n} new label", other: "{n} new labels" },
    "count.new": { one: "{n} new", other: "{n} new" },
    "count.pages": { one: "{n} page", other: "{n} pages" },
    "count.newPages": { one: "{n} new page", other: "{n} new pages" },
    "count.items": { one: "{n} activity", other: "{n} activities" },
    "count.split": ", {n} split at the year end",
    "count.rejected": { one: "{n} row rejected", other: "{n} rows rejected" },
    "count.duplicatesSkipped": "{n} already there and skipped",
    "count.duplicatesKept": "{n} already there and imported again",
    "field.name": "Name (activity)",
    "field.start": "Start date",
    "field.end": "End date",
    "field.ring": "Ring",
    "field.group": "Activity group",
    "field.label": "Label",
    "field.description": "Description",
    "field.ignore": "Ignore (not read)",
    "field.none": "No field (in the description)",
    "field.skip": "Not read",
    "kind.csv": "Text (CSV)",
    "kind.xlsx": "Excel (xlsx)",
    "kind.xls": "Excel 97–2003 (xls)",
    "kind.ods": "OpenDocument (ods)",
    "kind.json": "JSON",
    "delimiter.comma": "comma (,)",
    "delimiter.semicolon": "semicolon (;)",
    "delimiter.tab": "tab",
    "delimiter.pipe": "vertical bar (|)",
    "order.data": "The file's dates show the order.",
    "order.layout": "The file's format shows the order.",
    "order.default": "The dates can be read two ways; day first was assumed.",
    "order.request": "You chose the order.",
    "order.day_first": "day before month",
    "order.month_first": "month before day",
    "jobs.heading": "Your imports",
    "jobs.live": "Live updates",
    "jobs.wheel": "Wheel",
    "jobs.allWheels": "All wheels",
    "jobs.status": "Status",
    "jobs.all": "All",
    "jobs.none": "No imports yet.",
    "jobs.noMatch": "No imports match the filter.",
    "jobs.more": "Show more",
    "jobs.progressOf": "Progress of {file}",
    "jobs.retried": "Has been run again.",
    "jobs.saved": { one: "{n} activity saved", other: "{n} activities saved" },
    "jobs.skipped": ", {n} already there",
    "jobs.rejected": { one: ", {n} row rejected", other: ", {n} rows rejected" },
    "jobs.failed": "Failed",
    "jobs.nothingSaved": " Nothing was saved.",
    "jobs.cancelled": "Cancelled – nothing was saved.",
    "jobs.cancelling": "Cancelling – nothing is saved.",
    "jobs.rows": "{done} / {total} rows",
    "status.pending": "Waiting",
    "status.processing": "Importing",
    "status.cancelling": "Cancelling",
    "status.completed": "Done",
    "status.failed": "Failed",
    "status.cancelled": "Cancelled",
    "mode.append": "Add",
    "mode.replace": "Replace",
    "title.completed": "Import done!",
    "title.failed": "Import failed",
    "title.cancelled": "Import cancelled",
    "title.cancelling": "Cancelling import...",
    "title.processing": "Importing data...",
    "title.started": "Import started",
    "eta.soon": "Less than 1 minute left...",
    "eta.minute": "About 1 minute left...",
    "eta.minutes": "About {minutes} minutes left...",
    "current.nothingSaved": "Nothing was saved – the wheel is as it was before the import.",
    "current.cancelling": "The import is being cancelled; nothing of it is saved.",
    "current.noStructure": "No new rings, groups or labels: the file's were in the wheel already.",
    "current.failed": "Import failed",
    "current.retried": "The import has been run again already.",
    "receipt.saved": { one: "activity saved in the wheel", other: "activities saved in the wheel" },
    "receipt.skipped": "already in the wheel and skipped",
    "receipt.pieces": "extra parts: activities across a year end, one part per year",
    "receipt.rejected": { one: "row rejected", other: "rows rejected" },
    "receipt.rows": { one: "row in the file", other: "rows in the file" },
    "receipt.someRejected": { one: "{n} row could not be imported: see errors.csv for the row and the reason.", other: "{n} rows could not be imported: see errors.csv for each row and its reason." },
    "receipt.allRows": "Every row of the file became an activity.",
    "confirm.heading": "Replace the wheel's contents?",
    "confirm.text": "Every ring, group, label and activity in the wheel is replaced by the file's. The old data stays until the new is fully read; if the import fails or is cancelled, nothing changes.",
    "confirm.no": "Cancel",
    "confirm.yes": "Replace",
    "account.signedInAs": "Signed in as",
    "account.unknown": "an unknown account",
    "switch.heading": "Switch accounts?",
    "switch.current": "You are signed in as",
    "switch.other": "The link you opened signs in as",
    "switch.hint": "Switch only if the link is meant for you. Whoever sent a link to their own account sees everything you import there.",
    "switch.no": "Keep my account",
    "switch.yes": "Switch account",
  },
};

// The first of "sv" and "en" among the browser's languages, most preferred first.
export function pickLanguage(languages) {
  for (const tag of languages || []) {
    const primary = String(tag).toLowerCase().split("-")[0];
    if (primary === "sv" || primary === "en") return primary;
  }
  return "sv";
}

const BROWSER_LANGUAGES = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
export const LANG = pickLanguage(BROWSER_LANGUAGES);

// Numbers and dates the way the browser's own variant writes them ("Apr 3" in en-US, "3 Apr" in
// en-GB); Swedish always as in Sweden.
function formatLocale() {
  if (LANG === "sv") return "sv-SE";
  const tag = BROWSER_LANGUAGES.find((l) => String(l).toLowerCase().split("-")[0] === "en");
  try {
    return Intl.getCanonicalLocales(tag)[0] || "en";
  } catch {
    return "en";
  }
}
const LOCALE = formatLocale();
const NUMBER = new Intl.NumberFormat(LOCALE);
const ONE_DECIMAL = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const PLURAL = new Intl.PluralRules(LANG);
const DAY_MONTH = new Intl.DateTimeFormat(LOCALE, { day: "numeric", month: "short", timeZone: "UTC" });
const DATE_TIME = new Intl.DateTimeFormat(LOCALE, { dateStyle: "short", timeStyle: "short" });

// A number grouped the language's way: "1 929" (sv), "1,929" (en).
export const count = (n) => NUMBER.format(Number(n ?? 0));

// The text of `key`, its {name} slots filled from `params` (numbers grouped).
export function t(key, params = {}) {
  let text = TEXTS[LANG][key] ?? TEXTS.sv[key];
  if (text === undefined) return key;
  if (typeof text === "object" && !Array.isArray(text)) text = text[PLURAL.select(Number(params.n ?? 0))] ?? text.other;
  if (typeof text !== "string") return text;
  return text.replace(/\{(\w+)\}/g, (slot, name) => {
    const value = params[name];
    if (value === undefined || value === null) return slot;
    return typeof value === "number" ? count(value) : String(value);
  });
}

// A count in words: tn("count.items", 1929) -> "1 929 aktiviteter".
// A count given as text in `params.n` (plain digits) is shown as given; its number picks the form.
export const tn = (key, n, params = {}) => t(key, { n, ...params });

// "3 apr" (sv) or "Apr 3" (en) for "YYYY-MM-DD": the language's order, the table's month names.
export function dayMonth(iso) {
  const date = new Date(Date.UTC(+iso.slice(0, 4), +iso.slice(5, 7) - 1, +iso.slice(8, 10)));
  const months = t("wheel.months");
  return DAY_MONTH.formatToParts(date)
    .map((part) => (part.type === "month" ? months[+iso.slice(5, 7) - 1] : part.type === "literal" ? " " : part.value))
    .join("").replace(/\s+/g, " ").trim();
}

export const dateTime = (iso) => DATE_TIME.format(new Date(iso));

// index.html's own texts: data-t="key" fills an element's text, data-t-ATTR="key" an attribute.
// The Swedish in the markup is what a page without JavaScript shows.
export function localize(root = document) {
  document.documentElement.lang = LANG;
  document.title = t("page.title");
  for (const node of root.querySelectorAll("*")) {
    for (const name of node.getAttributeNames()) {
      if (name === "data-t") node.textContent = t(node.getAttribute(name));
      else if (name.startsWith("data-t-")) node.setAttribute(name.slice(7), t(node.getAttribute(name)));
    }
  }
}

const TOKEN_KEY = "importer.token";
const WHEEL_KEY = "importer.wheel";
const CURRENT_KEY = "importer.current";
const ACTIVE = new Set(["pending", "processing", "cancelling"]);
const TERMINAL = new Set(["completed", "failed", "cancelled"]);
const EVENT_TYPES = ["progress", "completed", "failed", "cancelled"];
const JOBS_PAGE = 20;
const ITEMS_PAGE = 10000;

const STATUS_TEXT = {
  pending: t("status.pending"),
  processing: t("status.processing"),
  cancelling: t("status.cancelling"),
  completed: t("status.completed"),
  failed: t("status.failed"),
  cancelled: t("status.cancelled"),
};

const MODE_TEXT = { append: t("mode.append"), replace: t("mode.replace") };
const NOTHING_SAVED = t("current.nothingSaved");

const $ = (id) => document.getElementById(id);

const state = {
  token: null,
  jobs: new Map(), // id -> job object (the one with the highest seq wins)
  retries: new Map(), // id of a job -> id of its (newest known) retry
  wheels: new Map(), // id -> wheel
  currentId: null,
  source: null,
  list: { wheel: "", status: "", cursor: null, oldest: null, more: false, loading: false },
  wheelView: { id: null, load: 0 },
  openWheelOnSignIn: null,
  // The first wheel list after sign-in: a file picked before it arrives waits for it rather
  // than being told to choose a wheel that is about to be chosen for it.
  wheelsReady: Promise.resolve(),
};

// ---------- small helpers ----------

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" || typeof child === "number"
      ? document.createTextNode(String(child)) : child);
  }
  return node;
}

function show(node, visible) {
  node.hidden = !visible;
}

function setText(node, text) {
  node.textContent = text ?? "";
  show(node, Boolean(text));
}

// Plain digits, as the original showed them ("1234/1929"): grouping would split a number over lines.
const fmt = (n) => String(n ?? 0);

export function etaText(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 60) return t("eta.soon");
  const minutes = Math.round(seconds / 60);
  if (minutes <= 1) return t("eta.minute");
  return t("eta.minutes", { minutes: String(minutes) });
}

// "✓ 3 nya ringar ✓ 39 nya grupper": only what the import created, only when there is some.
function structureText(job) {
  const c = job.counts || {};
  const parts = [];
  if (c.rings) parts.push(tn("count.newRings", c.rings, { n: fmt(c.rings) }));
  if (c.groups) parts.push(tn("count.newGroups", c.groups, { n: fmt(c.groups) }));
  if (c.labels) parts.push(tn("count.newLabels", c.labels, { n: fmt(c.labels) }));
  if (c.pages) parts.push(tn("count.newPages", c.pages, { n: fmt(c.pages) }));
  return parts.map((p) => `✓ ${p}`).join(" ");
}

// The rows of a completed import, as a sum that holds: every row of the file is an activity or
// rejected; an activity across a year end becomes one item per year; an item the wheel already
// had is skipped. So rows = saved + skipped − extra pieces + rejected.
export function receiptOf(job) {
  const c = job.counts || {};
  const rows = job.processed_items ?? 0;
  const saved = c.items ?? 0;
  const skipped = c.skipped_duplicates ?? 0;
  const rejected = job.rejected_rows ?? 0;
  const pieces = saved + skipped + rejected - rows;
  return { rows, saved, skipped, rejected, pieces };
}

function timeText(iso) {
  if (!iso) return "";
  return dateTime(iso);
}

function wheelName(id) {
  const wheel = state.wheels.get(id);
  return wheel ? `${wheel.title} (${wheel.year})` : t("wheel.gone");
}

// ---------- HTTP ----------

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function errorFrom(response) {
  let code = `http_${response.status}`;
  let message = t("http.status", { status: String(response.status) });
  try {
    const body = await response.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    }
  } catch { /* not JSON: keep the status text */ }
  return new ApiError(response.status, code, message);
}

async function api(path, { method = "GET", body, json } = {}) {
  const headers = { Authorization: `Bearer ${state.token}`, Accept: "application/json" };
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  const response = await fetch(path, { method, headers, body });
  if (response.status === 401) {
    signOut(t("signin.expired"));
    throw await errorFrom(response);
  }
  if (!response.ok) throw await errorFrom(response);
  return response.status === 204 ? null : response.json();
}

// The upload (for the review) goes through XMLHttpRequest because fetch cannot report upload
// progress. The stored file is then imported from its preview, without a second upload.
function upload(wheelId, file) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append("file", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/wheels/${encodeURIComponent(wheelId)}/previews`);
    xhr.setRequestHeader("Authorization", `Bearer ${state.token}`);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) {
        // Once the bytes are up, the server reads and plans the file.
        setText($("review-busy"), e.loaded < e.total
          ? t("upload.progress", { percent: String(Math.floor((100 * e.loaded) / e.total)) }) : t("upload.reading"));
      }
    });
    xhr.addEventListener("load", () => {
      const body = xhr.response;
      if (xhr.status >= 200 && xhr.status < 300) return resolve(body);
      if (xhr.status === 401) signOut(t("signin.expired"));
      const err = body && body.error;
      reject(new ApiError(xhr.status, err ? err.code : `http_${xhr.status}`,
        err && err.message ? err.message : t("http.status", { status: String(xhr.status) })));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "network", t("http.network"))));
    xhr.send(form);
  });
}

// ---------- sign-in ----------

// The link's token, wheel and job (`#token=...&wheel=...&job=...`). The fragment leaves the
// address bar first, whatever follows. A token of another user than the one signed in switches
// accounts only when the person says so (confirmSwitch); on "no" the link's wheel and job,
// which are the other account's, are ignored too.
async function readFragment() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  const token = params.get("token");
  const wheel = params.get("wheel");
  const job = params.get("job");
  if (token || wheel || job) {
    // The token must not linger in the address bar, the history or a bookmark.
    history.replaceState(null, "", location.pathname + location.search);
  }
  if (token) {
    const current = localStorage.getItem(TOKEN_KEY);
    if (linkDecision(current, token) === "ask") {
      if (!(await confirmSwitch(current, token))) {
        state.openWheelOnSignIn = null;
        return;
      }
      // What the page remembers of the other account is of no use to this one.
      forgetAccount();
      localStorage.removeItem(WHEEL_KEY);
    }
    localStorage.setItem(TOKEN_KEY, token);
  }
  if (wheel) localStorage.setItem(WHEEL_KEY, wheel);
  if (job) {
    // The e-mail's "Försök igen" link: that job is the one to show.
    localStorage.setItem(CURRENT_KEY, job);
    state.currentId = job;
  }
  // The e-mail's "Öppna årshjulet" link (a wheel, no job) opens that wheel's view.
  state.openWheelOnSignIn = wheel && !job ? wheel : null;
}

// Asks whether to switch from the account of `currentToken` to that of `linkToken`; true for yes.
// Closing the dialog (Escape) keeps the current account, as "no" does.
function confirmSwitch(currentToken, linkToken) {
  const dialog = $("confirm-switch");
  // A second link while the first is still asked about: the first is answered "no".
  if (dialog.open) dialog.dispatchEvent(new Event("cancel"));
  showAccount(currentToken);
  $("switch-current").textContent = accountName(tokenClaims(currentToken));
  $("switch-other").textContent = accountName(tokenClaims(linkToken)) || t("account.unknown");
  return new Promise((resolve) => {
    const done = (answer) => {
      $("switch-yes").removeEventListener("click", yes);
      $("switch-no").removeEventListener("click", no);
      dialog.removeEventListener("cancel", no);
      dialog.close();
      resolve(answer);
    };
    const yes = () => done(true);
    const no = (event) => {
      if (event) event.preventDefault(); // a cancel event: close through done(), once
      done(false);
    };
    $("switch-yes").addEventListener("click", yes);
    $("switch-no").addEventListener("click", no);
    dialog.addEventListener("cancel", no);
    dialog.showModal();
  });
}

// The header's "Inloggad som <e-mail or user id>" with "Logga ut"; hidden for no token.
function showAccount(token) {
  const name = token ? accountName(tokenClaims(token)) : "";
  $("account-name").textContent = name;
  $("account-name").title = name;
  show($("account"), Boolean(token));
}

// Everything the page holds of the signed-in account, but not the token itself.
function forgetAccount() {
  localStorage.removeItem(CURRENT_KEY);
  if (state.source) state.source.close();
  state.source = null;
  state.jobs.clear();
  state.retries.clear();
  state.currentId = null;
  closeWheel();
  leaveReview();
}

function signOut(message) {
  localStorage.removeItem(TOKEN_KEY);
  state.token = null;
  forgetAccount();
  show($("app"), false);
  showAccount(null);
  show($("signin"), true);
  setText($("signin-error"), message || "");
}

async function signIn() {
  state.token = localStorage.getItem(TOKEN_KEY);
  if (!state.token) {
    signOut();
    return;
  }
  show($("signin"), false);
  show($("app"), true);
  showAccount(state.token);
  connectEvents();
  try {
    const wheels = loadWheels();
    state.wheelsReady = wheels.catch(() => {}); // its error is shown below, once
    await Promise.all([wheels, loadRecent()]);
    await loadList({ reset: true });
    const wanted = state.openWheelOnSignIn;
    state.openWheelOnSignIn = null;
    if (wanted && state.wheels.has(wanted)) await openWheel(wanted);
  } catch (e) {
    if (e.status !== 401) setText($("upload-error"), e.message);
  }
}

// ---------- wheels ----------

async function loadWheels(selectId) {
  const body = await api("/api/wheels");
  const wheels = Array.isArray(body) ? body : body.wheels || [];
  const select = $("wheel-select");
  select.replaceChildren();
  const wanted = selectId || localStorage.getItem(WHEEL_KEY);
  if (wanted && !wheels.some((w) => w.id === wanted)) {
    // A wheel named in the link may not be listed yet (or the list may be paged): ask for it.
    try {
      wheels.unshift(await api(`/api/wheels/${encodeURIComponent(wanted)}`));
    } catch { /* not ours or gone: leave it out */ }
  }
  state.wheels = new Map(wheels.map((w) => [w.id, w]));
  if (wheels.length === 0) {
    select.append(el("option", { value: "", disabled: true, selected: true }, t("upload.noWheels")));
    toggleNewWheel(true);
  }
  for (const w of wheels) {
    select.append(el("option", { value: w.id }, `${w.title} (${w.year})`));
  }
  if (wanted && wheels.some((w) => w.id === wanted)) select.value = wanted;
  const filter = $("filter-wheel");
  const chosen = filter.value;
  filter.replaceChildren(el("option", { value: "" }, t("jobs.allWheels")),
    ...wheels.map((w) => el("option", { value: w.id }, `${w.title} (${w.year})`)));
  filter.value = state.wheels.has(chosen) ? chosen : "";
  show($("show-wheel"), wheels.length > 0);
  render();
}

function toggleNewWheel(open) {
  const box = $("new-wheel");
  const visible = open ?? box.hidden;
  show(box, visible);
  $("new-wheel-toggle").setAttribute("aria-expanded", String(visible));
  if (visible && !$("wheel-year").value) $("wheel-year").value = new Date().getFullYear();
}

async function createWheel() {
  const title = $("wheel-title").value.trim();
  const year = Number($("wheel-year").value);
  if (!title || !Number.isInteger(year)) {
    setText($("upload-error"), t("upload.needTitle"));
    return;
  }
  setText($("upload-error"), "");
  try {
    const wheel = await api("/api/wheels", { method: "POST", json: { title, year } });
    localStorage.setItem(WHEEL_KEY, wheel.id);
    await loadWheels(wheel.id);
    $("wheel-title").value = "";
    toggleNewWheel(false);
  } catch (e) {
    setText($("upload-error"), e.message);
  }
}

// ---------- the wheel view ----------

const WHEEL_TEXTS = { t, tn, count, dayMonth, lang: LANG };
const wheelView = new WheelView($, { texts: WHEEL_TEXTS });

// Every item of the wheel, page after page of the items route (a server that answers all at
// once, without `next`, is read in one go).
async function fetchItems(wheelId) {
  const items = [];
  let after = null;
  do {
    const query = new URLSearchParams({ limit: String(ITEMS_PAGE) });
    if (after) query.set("after", after);
    const body = await api(`/api/wheels/${encodeURIComponent(wheelId)}/items?${query}`);
    for (const item of body.items || []) items.push(item);
    after = body.next || null;
  } while (after);
  return items;
}

async function openWheel(wheelId, { scroll = false } = {}) {
  const load = ++state.wheelView.load;
  const same = state.wheelView.id === wheelId;
  state.wheelView.id = wheelId;
  const section = $("wheel-view");
  show(section, true);
  $("wheel-heading").textContent = t("wheel.headingOf", { wheel: wheelName(wheelId) });
  setText($("wheel-status"), t("wheel.loading"));
  if (!same) show($("wheel-panel"), false);
  if (scroll) section.scrollIntoView({ block: "start" });
  try {
    const started = performance.now();
    const [wheel, items] = await Promise.all([
      api(`/api/wheels/${encodeURIComponent(wheelId)}`), fetchItems(wheelId)]);
    if (load !== state.wheelView.load) return; // another wheel was asked for meanwhile
    section.dataset.fetchMs = (performance.now() - started).toFixed(1);
    section.dataset.wheel = wheelId;
    $("wheel-heading").textContent = t("wheel.headingOf", { wheel: `${wheel.title} (${wheel.year})` });
    if (items.length === 0) {
      setText($("wheel-status"), t("wheel.empty"));
      show($("wheel-tabs"), false);
      show($("wheel-panel"), false);
      return;
    }
    const pages = new Set(items.map((it) => it.page_year)).size;
    setText($("wheel-status"), t("wheel.status", {
      items: tn("count.items", items.length), pages: tn("count.pages", pages) }));
    show($("wheel-panel"), true);
    wheelView.show(wheel, items);
  } catch (e) {
    if (load === state.wheelView.load && e.status !== 401) setText($("wheel-status"), e.message);
  }
}

function closeWheel() {
  state.wheelView.id = null;
  state.wheelView.load++;
  show($("wheel-view"), false);
}

// ---------- the replace confirmation ----------

function confirmReplace() {
  const dialog = $("confirm-replace");
  return new Promise((resolve) => {
    const done = (answer) => {
      $("replace-yes").removeEventListener("click", yes);
      $("replace-no").removeEventListener("click", no);
      dialog.removeEventListener("cancel", no);
      dialog.close();
      resolve(answer);
    };
    const yes = () => done(true);
    const no = () => done(false);
    $("replace-yes").addEventListener("click", yes);
    $("replace-no").addEventListener("click", no);
    dialog.addEventListener("cancel", no);
    dialog.showModal();
  });
}

// ---------- choosing a file: the picker or a drop ----------

function sizeText(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} kB`;
  return `${ONE_DECIMAL.format(bytes / (1024 * 1024))} MB`;
}

function fileChosen() {
  const file = $("file-input").files[0];
  setText($("file-chosen"), file ? `${file.name} (${sizeText(file.size)})` : "");
  $("drop-zone").classList.toggle("has-file", Boolean(file));
  if (file) startReview(file);
}

// Any dropped file is taken: the server reads the content, not the name, and says what it cannot read.
function dropFile(event) {
  event.preventDefault();
  $("drop-zone").classList.remove("over");
  const files = event.dataTransfer && event.dataTransfer.files;
  if (!files || files.length === 0) return;
  if (files.length > 1) {
    setText($("upload-error"), t("upload.oneFile"));
    return;
  }
  setText($("upload-error"), "");
  $("file-input").files = files;
  fileChosen();
}

// ---------- the review: what the import would do, before anything is saved ----------

const FIELDS = ["name", "start", "end", "ring", "group", "label", "description"];
const FIELD_TEXT = {
  ...Object.fromEntries([...FIELDS, "ignore", "skip"].map((f) => [f, t(`field.${f}`)])),
  "": t("field.none"),
};
const KIND_TEXT = Object.fromEntries(["csv", "xlsx", "xls", "ods", "json"].map((k) => [k, t(`kind.${k}`)]));
const DELIMITER_TEXT = {
  ",": t("delimiter.comma"), ";": t("delimiter.semicolon"), "\t": t("delimiter.tab"), "|": t("delimiter.pipe"),
};
const ORDER_SOURCE_TEXT = Object.fromEntries(["data", "layout", "default", "request"].map((k) => [k, t(`order.${k}`)]));
const SHOWN_ITEMS = 100;

const review = {
  preview: null, // the last preview the server gave
  wheelId: null,
  busy: false,
  ask: 0, // the newest request; an older answer is dropped
};

const reviewWheel = new WheelView((name) => $(`review-${name}`), { prefix: "review-", texts: WHEEL_TEXTS });

// "3 ringar (1 ny)", "39 nya grupper" (all new), "39 grupper" (all there already).
function structurePart(c, key, newKey) {
  const fresh = c ? c.new ?? 0 : 0;
  const total = fresh + (c ? c.existing ?? 0 : 0);
  if (!total) return null;
  if (fresh === total) return tn(newKey, total);
  return tn(key, total) + (fresh ? ` (${tn("count.new", fresh)})` : "");
}

// The preview's counts in words, one part per fact:
// "3 ringar (1 ny) · 39 grupper · 1 929 aktiviteter, 38 delas vid årsskiftet · 6 rader avvisas · 25 finns redan och hoppas över".
export function reviewCountParts(counts, { skip = true } = {}) {
  const c = counts || {};
  const parts = [
    structurePart(c.rings, "count.rings", "count.newRings"),
    structurePart(c.groups, "count.groups", "count.newGroups"),
    structurePart(c.labels, "count.labels", "count.newLabels"),
  ];
  // Kept, the duplicates are imported again: they count among the activities.
  const items = (c.items ?? 0) + (skip ? 0 : c.skipped_duplicates ?? 0);
  parts.push(tn("count.items", items) + (c.split_items && items ? tn("count.split", c.split_items) : ""));
  if (c.rejected) parts.push(tn("count.rejected", c.rejected));
  if (c.skipped_duplicates) {
    parts.push(tn(skip ? "count.duplicatesSkipped" : "count.duplicatesKept", c.skipped_duplicates));
  }
  return parts.filter(Boolean);
}

// The mapping with every field said out loud (a field no column takes is null), so that the
// server detects nothing behind the person's back: what the table shows is what is sent.
function explicitMapping(preview) {
  const mapping = {};
  for (const field of FIELDS) mapping[field] = (preview.mapping && preview.mapping[field]) || null;
  mapping.ignore = [...((preview.mapping && preview.mapping.ignore) || [])];
  return mapping;
}

// What a column is: its field, "ignore", "" (no field: its cells go to the description, as
// the unmapped_column warning names them) or "skip" (no field and not in the description: an
// empty column, or one the reader leaves out, like a corrected errors.csv's Rad and Orsak).
function columnChoice(preview, column) {
  if (column.field) return column.field;
  const ignored = (preview.mapping && preview.mapping.ignore) || [];
  if (ignored.includes(column.header)) return "ignore";
  const unmapped = (preview.warnings || []).find((w) => w && w.code === "unmapped_column");
  const described = unmapped && unmapped.details && Array.isArray(unmapped.details.columns)
    ? unmapped.details.columns : [];
  return described.includes(column.header) ? "" : "skip";
}

function remap(column, choice) {
  const mapping = explicitMapping(review.preview);
  for (const field of FIELDS) if (mapping[field] === column.header) mapping[field] = null;
  mapping.ignore = mapping.ignore.filter((h) => h !== column.header);
  // A field takes one column: choosing it here takes it from the column that had it.
  if (FIELDS.includes(choice)) mapping[choice] = column.header;
  else if (choice === "ignore") mapping.ignore.push(column.header);
  changeReview({ mapping });
}

function setReviewBusy(busy, text = "") {
  review.busy = busy;
  const section = $("review");
  section.setAttribute("aria-busy", String(busy));
  section.classList.toggle("is-busy", busy);
  setText($("review-busy"), busy ? text || t("review.recount") : "");
  for (const control of section.querySelectorAll("#review-body select, #review-body input[name=date-order], #review-skip, input[name=mode]")) {
    control.disabled = busy;
  }
  $("submit").disabled = busy || !review.preview;
}

async function startReview(file) {
  await state.wheelsReady;
  const wheelId = $("wheel-select").value;
  setText($("upload-error"), "");
  if (!wheelId) {
    setText($("upload-error"), t("upload.chooseWheel"));
    return;
  }
  localStorage.setItem(WHEEL_KEY, wheelId);
  const ask = ++review.ask;
  review.preview = null;
  review.wheelId = wheelId;
  show($("review"), true);
  show($("upload-card"), false);
  show($("review-body"), false);
  setText($("review-error"), "");
  $("review-file").textContent = `${file.name} (${sizeText(file.size)})`;
  $("review-where").textContent = t("review.where", { wheel: wheelName(wheelId) });
  for (const radio of document.querySelectorAll("input[name=mode]")) radio.checked = radio.value === "append";
  $("review-skip").checked = true;
  setReviewBusy(true, t("upload.reading"));
  $("review").scrollIntoView({ block: "start" });
  try {
    const preview = await upload(wheelId, file);
    if (ask !== review.ask) return;
    review.preview = preview;
    setReviewBusy(false);
    renderReview();
    // The picker (or the drop zone) is gone from sight: the keyboard goes on from the review.
    $("review-heading").focus({ preventScroll: true });
  } catch (e) {
    if (ask !== review.ask) return;
    // Nothing to review: back to choosing a file, with the server's reason.
    leaveReview();
    setText($("upload-error"), `${file.name}: ${e.message}`);
  }
}

// A change of mapping, date order or sheet: the server plans the stored file again. On a
// refusal the previous review stays as it was, with the reason above it.
async function changeReview(changes) {
  const preview = review.preview;
  if (!preview) return;
  const ask = ++review.ask;
  setText($("review-error"), "");
  setReviewBusy(true);
  try {
    const changed = await api(preview.links.self, { method: "PATCH", json: changes });
    if (ask !== review.ask) return;
    review.preview = changed;
  } catch (e) {
    if (ask !== review.ask) return;
    if (e.status !== 401) setText($("review-error"), t("review.changeFailed", { message: e.message }));
  }
  setReviewBusy(false);
  renderReview();
}

function leaveReview() {
  review.ask++;
  review.preview = null;
  setReviewBusy(false);
  show($("review"), false);
  show($("upload-card"), true);
  $("upload-form").reset();
  if (review.wheelId && state.wheels.has(review.wheelId)) $("wheel-select").value = review.wheelId;
  setText($("file-chosen"), "");
  $("drop-zone").classList.remove("has-file");
}

const ORDER_TEXT = { day_first: t("order.day_first"), month_first: t("order.month_first") };

// Whether the date order is the person's to choose: assumed, chosen, or read both ways.
function dateChoice(p) {
  if ((p.warnings || []).some((w) => w && w.code === "date_order_assumed")) return true;
  return Boolean(p.date_order) && !["data", "layout"].includes(p.date_order_source);
}

function fact(term, value) {
  return value ? [el("div", { class: "fact" }, el("dt", {}, term), el("dd", {}, String(value)))] : [];
}

function renderReview() {
  const p = review.preview;
  if (!p) return;
  show($("review-body"), true);
  $("review-file").textContent = `${p.file_name} (${sizeText(p.size_bytes ?? 0)})`;
  const f = p.format || {};
  const c = p.counts || {};
  $("review-facts").replaceChildren(
    ...fact(t("review.factFormat"), KIND_TEXT[f.kind] || f.kind),
    ...fact(t("review.factEncoding"), f.encoding ? f.encoding.toUpperCase() : ""),
    ...fact(t("review.factDelimiter"), f.delimiter ? DELIMITER_TEXT[f.delimiter] || `"${f.delimiter}"` : ""),
    ...fact(t("review.factSheet"), f.sheet || ""),
    ...fact(t("review.factHeader"), f.header_row ? t("review.headerRow", { row: String(f.header_row) }) : ""),
    ...fact(t("review.factOrder"), p.date_order && !dateChoice(p) ? ORDER_TEXT[p.date_order] : ""),
    ...fact(t("review.factRows"), p.sampled ? t("review.sampled", { rows: count(c.rows) }) : count(c.rows)),
  );

  const sheets = f.sheets || [];
  show($("review-sheet-row"), sheets.length > 1);
  $("review-sheet").replaceChildren(...sheets.map((name) => el("option", { value: name }, name)));
  if (f.sheet) $("review-sheet").value = f.sheet;

  const skip = $("review-skip").checked;
  const parts = reviewCountParts(c, { skip });
  $("review-counts").replaceChildren(...parts.flatMap((part, i) => [
    i ? el("span", { class: "sep", "aria-hidden": "true" }, " · ") : null,
    el("span", { class: "count-part" }, part)].filter(Boolean)));
  const warnings = (p.warnings || []).filter((w) => w && w.message);
  $("review-warnings").replaceChildren(...warnings.map((w) => el("li", { dataset: { code: w.code || "" } }, w.message)));
  show($("review-warnings"), warnings.length > 0);
  show($("review-skip-row"), Boolean(c.skipped_duplicates));

  // The date order as a choice when the dates did not settle it (or the person chose it); a
  // fact above when they did. Marked when it was only assumed.
  const assumed = warnings.some((w) => w.code === "date_order_assumed");
  show($("review-dates"), dateChoice(p));
  $("review-dates").classList.toggle("assumed", assumed);
  $("review-dates-note").textContent = assumed
    ? t("review.assumed")
    : ORDER_SOURCE_TEXT[p.date_order_source] || "";
  for (const radio of document.querySelectorAll("input[name=date-order]")) radio.checked = radio.value === p.date_order;

  renderColumns(p);
  renderPlannedWheel(p);
  renderRejected(p);
  setReviewBusy(review.busy);
}

function renderColumns(p) {
  $("review-columns-body").replaceChildren(...(p.columns || []).map((column) => {
    const chosen = columnChoice(p, column);
    const choices = [...FIELDS, "ignore", chosen === "skip" ? "skip" : ""];
    const select = el("select", {
      class: "field-select", "aria-label": t("review.columnField", { column: column.header || String(column.index + 1) }),
      dataset: { header: column.header }, onchange: (e) => remap(column, e.target.value),
    }, ...choices.map((value) => el("option", { value, selected: value === chosen }, FIELD_TEXT[value])));
    select.value = chosen;
    // A column without a header cannot be named in a mapping.
    if (!column.header) select.disabled = true;
    const samples = (column.samples || []).filter(Boolean);
    return el("tr", { dataset: { field: chosen } },
      el("th", { scope: "row" },
        el("span", { class: "column-header" }, column.header || t("review.noHeader", { n: String(column.index + 1) })),
        samples.length ? el("span", { class: "samples" }, ...samples.flatMap((sample, i) => [
          i ? " · " : null, el("span", { class: "sample" }, sample)]).filter(Boolean)) : null),
      el("td", { class: "field-cell" }, select));
  }));
}

function renderPlannedWheel(p) {
  const items = p.items || [];
  // The planned items include those the wheel already has (skipped by default).
  const c = p.counts || {};
  const total = c.items === undefined ? items.length : c.items + (c.skipped_duplicates || 0);
  const wheel = state.wheels.get(p.wheel_id) || { title: "", year: new Date().getFullYear() };
  show($("review-wheel-panel"), items.length > 0);
  show($("review-wheel-tabs"), items.length > 0);
  if (!items.length) {
    $("review-wheel-note").textContent = t("review.nothingToDraw");
    return;
  }
  $("review-wheel-note").textContent = (total > items.length
    ? t("review.drawnFirst", { shown: items.length, total })
    : items.length === 1 ? t("review.drawnOne") : t("review.drawnAll", { shown: items.length }))
    + (c.skipped_duplicates ? t("review.drawnDuplicates") : "");
  $("review-wheel-table-caption").textContent = total > items.length
    ? t("review.captionFirst", { shown: items.length }) : t("review.captionAll");
  reviewWheel.show(wheel, items.map((it) => ({ ...it })));
}

function renderRejected(p) {
  const rejected = p.rejected || [];
  const total = p.counts ? p.counts.rejected ?? rejected.length : rejected.length;
  show($("review-rejected-box"), total > 0);
  // A few rejected rows are shown at once; many wait behind their summary.
  if (p.id !== renderRejected.shownFor) $("review-rejected-box").open = total > 0 && total <= 10;
  renderRejected.shownFor = p.id;
  $("review-rejected-summary").textContent = total > rejected.length
    ? t("review.rejectedFirst", { rejected: tn("count.rejected", total), shown: rejected.length })
    : t("review.rejectedAll", { rejected: tn("count.rejected", total) });
  $("review-rejected-body").replaceChildren(...rejected.map((r) => el("tr", {},
    el("td", { class: "num" }, String(r.row)),
    el("td", {}, r.column || ""),
    el("td", {}, r.reason || ""),
    el("td", { class: "cells" }, (r.values || []).map((v) => (String(v ?? "").trim() ? v : "–")).join(" · ")))));
}

// ---------- importing the reviewed file ----------

async function submitImport(event) {
  if (event) event.preventDefault();
  const preview = review.preview;
  if (!preview || review.busy) return;
  setText($("review-error"), "");
  const mode = document.querySelector("input[name=mode]:checked").value;
  if (mode === "replace" && !(await confirmReplace())) return;
  const button = $("submit");
  button.disabled = true;
  try {
    const job = await api(preview.links.imports, {
      method: "POST", json: { mode, skip_duplicates: $("review-skip").checked },
    });
    leaveReview();
    makeCurrent(job.id);
    mergeJob(job, { started: true });
    $("current").scrollIntoView({ block: "start" });
  } catch (e) {
    if (e.status !== 401) setText($("review-error"), e.message);
  } finally {
    button.disabled = review.busy || !review.preview;
  }
}

function makeCurrent(id) {
  state.currentId = id;
  localStorage.setItem(CURRENT_KEY, id);
  render();
}

function reportError(job, message) {
  if (state.currentId === job.id) setText($("job-error"), message);
  else setText($("upload-error"), message);
}

async function cancelJob(job) {
  try {
    mergeJob(await api(`/api/imports/${encodeURIComponent(job.id)}/cancel`, { method: "POST" }));
  } catch (e) {
    reportError(job, e.message);
  }
}

// A retry is newer than its job and goes to the same wheel: reading that wheel's jobs newest
// first, down to the job itself, finds any retry another tab, the CLI or an earlier click made.
async function findRetry(job) {
  let before = null;
  for (let page = 0; page < 10; page++) {
    const query = new URLSearchParams({ wheel_id: job.wheel_id, limit: "100" });
    if (before) query.set("before", before);
    const body = await api(`/api/imports?${query}`);
    const jobs = body.jobs || [];
    for (const j of jobs) mergeJob(j);
    if (state.retries.has(job.id)) return state.retries.get(job.id);
    if (jobs.length < 100 || jobs.some((j) => j.id === job.id)) return null;
    before = jobs[jobs.length - 1].id;
  }
  return null;
}

async function retryJob(job) {
  try {
    const existing = state.retries.get(job.id) || await findRetry(job);
    if (existing) {
      // Pressing "Försök igen" twice must not start a second full import.
      makeCurrent(existing);
      return;
    }
    const result = await api(`/api/imports/${encodeURIComponent(job.id)}/retry`, { method: "POST" });
    makeCurrent(result.id);
    mergeJob(result, { started: true });
  } catch (e) {
    reportError(job, e.message);
  }
}

// errors.csv needs the Authorization header, which a plain link cannot send: fetch it and hand
// the browser a Blob URL to save.
async function downloadErrors(job) {
  try {
    const response = await fetch(job.links.errors, { headers: { Authorization: `Bearer ${state.token}` } });
    if (!response.ok) throw await errorFrom(response);
    const url = URL.createObjectURL(await response.blob());
    const a = el("a", { href: url, download: `errors-${job.id.slice(0, 8)}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (e) {
    setText($("job-error"), e.message);
  }
}

// ---------- jobs and the one event stream ----------

// The newest jobs whatever the list's filters: the current job and the retries come from here.
async function loadRecent() {
  const body = await api(`/api/imports?limit=${JOBS_PAGE}`);
  for (const job of body.jobs || []) mergeJob(job);
  if (!state.currentId || !state.jobs.has(state.currentId)) {
    const stored = localStorage.getItem(CURRENT_KEY);
    const jobs = [...state.jobs.values()];
    const active = jobs.find((j) => ACTIVE.has(j.status));
    if (stored && !state.jobs.has(stored)) {
      // A job named by a link or kept from an earlier visit may be older than the first page.
      try { mergeJob(await api(`/api/imports/${encodeURIComponent(stored)}`)); } catch { /* gone */ }
    }
    state.currentId = (stored && state.jobs.has(stored)) ? stored : active ? active.id : null;
  }
  render();
}

// The job list: a page of jobs matching the filters, and "Visa fler" for the next (older) one.
async function loadList({ reset = false } = {}) {
  const list = state.list;
  if (reset) {
    list.cursor = null;
    list.oldest = null;
    list.more = false;
  }
  list.loading = true;
  render();
  try {
    const query = new URLSearchParams({ limit: String(JOBS_PAGE) });
    if (list.status) query.set("status", list.status);
    if (list.wheel) query.set("wheel_id", list.wheel);
    if (list.cursor) query.set("before", list.cursor);
    const body = await api(`/api/imports?${query}`);
    const jobs = body.jobs || [];
    for (const job of jobs) mergeJob(job);
    if (jobs.length) {
      const last = jobs[jobs.length - 1];
      list.cursor = last.id;
      list.oldest = last.created_at;
    }
    list.more = jobs.length === JOBS_PAGE;
  } finally {
    list.loading = false;
    render();
  }
}

function connectEvents() {
  if (state.source) state.source.close();
  // One stream for all of the user's jobs; on a dropped connection the browser reconnects by
  // itself and sends Last-Event-ID, so nothing here has to.
  const source = new EventSource(`/api/events?access_token=${encodeURIComponent(state.token)}`);
  const onEvent = (e) => {
    try {
      mergeJob(JSON.parse(e.data));
    } catch { /* a malformed event is dropped, the next one carries the whole state */ }
  };
  for (const type of EVENT_TYPES) source.addEventListener(type, onEvent);
  source.addEventListener("message", onEvent);
  let opened = false;
  source.addEventListener("open", () => {
    $("live").classList.add("on");
    // Events sent while we were away are replayed from Last-Event-ID; a fresh list fills the
    // gap if the server could not. (The first open comes with the sign-in's own load.)
    if (opened) loadRecent().catch(() => {});
    opened = true;
  });
  source.addEventListener("error", () => {
    $("live").classList.remove("on");
    if (source.readyState === EventSource.CLOSED && state.token) {
      // The server refused the stream (e.g. an expired token): check the token the normal way.
      api("/api/imports?limit=1").then(() => setTimeout(connectEvents, 5000), () => {});
    }
  });
  state.source = source;
}

function mergeJob(job, { started = false } = {}) {
  if (!job || !job.id) return;
  const known = state.jobs.get(job.id);
  if (job.retry_of) {
    const other = state.retries.get(job.retry_of);
    const otherJob = other && state.jobs.get(other);
    if (!otherJob || (otherJob.created_at || "") <= (job.created_at || "")) state.retries.set(job.retry_of, job.id);
  }
  if (known && (known.seq ?? 0) > (job.seq ?? 0)) {
    // The stream got here first (a fast import can end before its 202 arrives): keep the newer
    // state, but still draw, since the caller may have just made this the current job.
    if (started) known._started = true;
  } else {
    // What the page knows of a job beyond the server's object stays with it.
    job = { ...job, _started: started || Boolean(known && known._started), _shown: Boolean(known && known._shown) };
    state.jobs.set(job.id, job);
  }
  // An import that ends while this page watches it (started here, or seen running) shows the
  // wheel it filled; a wheel on screen is drawn again when an import into it completes.
  const now = state.jobs.get(job.id);
  const watched = now._started || (known && known.status !== "completed");
  if (now.status === "completed" && watched && !now._shown) {
    now._shown = true;
    if (now.id === state.currentId || state.wheelView.id === now.wheel_id) openWheel(now.wheel_id);
  }
  render();
}

// ---------- rendering ----------

let frame = 0;
function render() {
  // Many events can arrive in one tick during a fast import: draw once per animation frame.
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    renderCurrent();
    renderList();
  });
}

function titleFor(job) {
  switch (job.status) {
    case "completed": return t("title.completed");
    case "failed": return t("title.failed");
    case "cancelled": return t("title.cancelled");
    case "cancelling": return t("title.cancelling");
    case "processing": return job._started && job.progress === 0 ? t("title.started") : t("title.processing");
    default: return t("title.started");
  }
}

function receiptRow(sign, value, text, kind) {
  return el("tr", { class: kind || "" },
    el("td", { class: "sign" }, sign),
    el("td", { class: "num" }, fmt(value)),
    el("th", { scope: "row" }, text));
}

function renderReceipt(job) {
  const r = receiptOf(job);
  const rows = [receiptRow(r.saved > 0 ? "✓" : "", r.saved, tn("receipt.saved", r.saved), "ok")];
  // Only a sum that holds is shown as one; a server that counts differently gets plain lines.
  const adds = r.pieces >= 0;
  if (r.skipped) rows.push(receiptRow(adds ? "+" : "", r.skipped, t("receipt.skipped")));
  if (r.pieces > 0) rows.push(receiptRow("−", r.pieces, t("receipt.pieces")));
  if (r.rejected) rows.push(receiptRow(adds ? "+" : "", r.rejected, tn("receipt.rejected", r.rejected), "bad"));
  if (adds) rows.push(receiptRow("=", r.rows, tn("receipt.rows", r.rows), "total"));
  $("receipt-body").replaceChildren(...rows);
  show($("split-note"), r.pieces > 0);
  const warnings = (job.warnings || []).filter((w) => w && w.message);
  $("warnings").replaceChildren(...warnings.map((w) => el("li", { dataset: { code: w.code || "" } }, w.message)));
  show($("warnings"), warnings.length > 0);
  $("rejected").textContent = r.rejected
    ? tn("receipt.someRejected", r.rejected, { n: fmt(r.rejected) })
    : t("receipt.allRows");
}

function renderCurrent() {
  const job = state.currentId ? state.jobs.get(state.currentId) : null;
  show($("current"), Boolean(job));
  if (!job) return;
  const percent = Math.max(0, Math.min(100, job.progress | 0));
  const running = job.status === "pending" || job.status === "processing";
  const done = job.status === "completed";
  // A failed or cancelled import saved nothing: no bar stopped half-way, no "150000 / 300000"
  // that reads as half of it saved.
  const nothing = job.status === "failed" || job.status === "cancelled" || job.status === "cancelling";
  $("current").dataset.status = job.status;
  $("current-title").textContent = titleFor(job);
  $("current-file").textContent = job.file_name;
  $("current-where").textContent = `${MODE_TEXT[job.mode] || job.mode} · ${wheelName(job.wheel_id)}`;
  show($("bar-row"), running || done);
  $("bar").setAttribute("aria-valuenow", String(percent));
  $("bar").setAttribute("aria-valuetext", `${percent}%`);
  $("bar-fill").style.width = `${percent}%`;
  $("percent").textContent = `${percent}%`;
  setText($("step"), running || job.status === "cancelling" ? job.current_step : "");
  setText($("processed"), running && job.total_items
    ? t("jobs.rows", { done: fmt(job.processed_items), total: fmt(job.total_items) }) : "");
  setText($("counts"), running ? structureText(job) : done ? structureText(job) || t("current.noStructure") : "");
  setText($("eta"), running ? etaText(job.eta_seconds) : "");
  setText($("nothing-saved"), job.status === "cancelling" ? t("current.cancelling")
    : nothing ? NOTHING_SAVED : "");

  show($("result"), done);
  if (done) renderReceipt(job);
  setText($("job-error"), job.status === "failed"
    ? (job.error ? `${job.error.message} (${job.error.code})` : t("current.failed")) : "");
  const retriedBy = state.retries.get(job.id);
  const retryable = job.status === "failed" || job.status === "cancelled";
  show($("cancel"), running);
  show($("retry"), retryable && !retriedBy);
  show($("show-retry"), retryable && Boolean(retriedBy));
  setText($("retried"), retryable && retriedBy ? t("current.retried") : "");
  show($("open-wheel"), done && state.wheelView.id !== job.wheel_id);
  show($("errors"), job.rejected_rows > 0 && TERMINAL.has(job.status));
  show($("fix-hint"), done && job.rejected_rows > 0);
}

function matchesList(job) {
  const list = state.list;
  if (list.status && job.status !== list.status) return false;
  if (list.wheel && job.wheel_id !== list.wheel) return false;
  // Jobs older than the last page loaded wait for "Visa fler", so the list has no gaps.
  return !list.more || !list.oldest || (job.created_at || "") >= list.oldest;
}

function renderList() {
  const list = $("jobs");
  const jobs = [...state.jobs.values()].filter(matchesList).sort((a, b) =>
    (b.created_at || "").localeCompare(a.created_at || "") || b.id.localeCompare(a.id));
  const filtered = Boolean(state.list.status || state.list.wheel);
  $("jobs-empty").textContent = filtered ? t("jobs.noMatch") : t("jobs.none");
  show($("jobs-empty"), jobs.length === 0 && !state.list.loading);
  list.replaceChildren(...jobs.map(jobItem));
  show($("jobs-more"), state.list.more);
  $("jobs-more").disabled = state.list.loading;
}

function jobDetail(job) {
  switch (job.status) {
    case "completed": {
      const r = receiptOf(job);
      return tn("jobs.saved", r.saved, { n: fmt(r.saved) })
        + (r.skipped ? t("jobs.skipped", { n: fmt(r.skipped) }) : "")
        + (r.rejected ? tn("jobs.rejected", r.rejected, { n: fmt(r.rejected) }) : "");
    }
    case "failed": {
      const message = job.error ? job.error.message : t("jobs.failed");
      return `${message}${/[.!?]$/.test(message) ? "" : "."}${t("jobs.nothingSaved")}`;
    }
    case "cancelled": return t("jobs.cancelled");
    case "cancelling": return t("jobs.cancelling");
    default: return job.total_items
      ? t("jobs.rows", { done: fmt(job.processed_items), total: fmt(job.total_items) }) : job.current_step;
  }
}

function jobItem(job) {
  const active = job.status === "pending" || job.status === "processing";
  let bar = null;
  if (active) {
    const percent = Math.max(0, Math.min(100, job.progress | 0));
    const fill = el("div", { class: "bar-fill" });
    fill.style.width = `${percent}%`;
    bar = el("div", { class: "bar-row" }, el("div", {
      class: "bar small", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100",
      "aria-valuenow": String(percent), "aria-label": t("jobs.progressOf", { file: job.file_name }),
    }, fill), el("span", { class: "percent" }, `${percent}%`));
  }
  const actions = el("div", { class: "actions" });
  if (active) {
    actions.append(el("button", { type: "button", class: "danger small", onclick: () => cancelJob(job) }, t("action.cancel")));
  }
  const retriedBy = state.retries.get(job.id);
  if ((job.status === "failed" || job.status === "cancelled") && !retriedBy) {
    actions.append(el("button", { type: "button", class: "secondary small", onclick: () => retryJob(job) }, t("action.retry")));
  }
  if (job.status === "completed") {
    actions.append(el("button", {
      type: "button", class: "secondary small", onclick: () => openWheel(job.wheel_id, { scroll: true }),
    }, t("action.openWheel")));
  }
  if (job.rejected_rows > 0 && TERMINAL.has(job.status)) {
    actions.append(el("button", { type: "button", class: "secondary small", onclick: () => downloadErrors(job) }, t("action.errorsShort")));
  }
  if (job.id !== state.currentId) {
    actions.append(el("button", { type: "button", class: "link small", onclick: () => makeCurrent(job.id) }, t("action.show")));
  }
  return el("li", { class: "job", dataset: { status: job.status, id: job.id, wheel: job.wheel_id || "" } },
    el("div", { class: "job-head" },
      el("span", { class: "job-file" }, job.file_name),
      el("span", { class: `badge ${job.status}` }, STATUS_TEXT[job.status] || job.status)),
    el("div", { class: "job-where" },
      el("span", { class: "job-wheel" }, wheelName(job.wheel_id)),
      el("span", { class: "job-mode" }, MODE_TEXT[job.mode] || job.mode)),
    bar,
    el("div", { class: "job-meta" },
      el("span", { class: "muted job-detail" }, jobDetail(job) || ""),
      el("span", { class: "muted" }, timeText(job.created_at))),
    retriedBy ? el("p", { class: "muted job-retried" }, t("jobs.retried")) : null,
    actions);
}

// ---------- wiring ----------

async function init() {
  localize();
  $("signin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const token = $("token-input").value.trim();
    if (!token) return;
    localStorage.setItem(TOKEN_KEY, token);
    $("token-input").value = "";
    signIn();
  });
  $("logout").addEventListener("click", () => signOut());
  $("new-wheel-toggle").addEventListener("click", () => toggleNewWheel());
  $("create-wheel").addEventListener("click", createWheel);
  $("upload-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const file = $("file-input").files[0];
    if (file) startReview(file);
  });
  $("submit").addEventListener("click", submitImport);
  $("review-cancel").addEventListener("click", () => { leaveReview(); $("upload-card").scrollIntoView({ block: "nearest" }); });
  $("review-sheet").addEventListener("change", (e) => changeReview({ sheet: e.target.value, mapping: null }));
  for (const radio of document.querySelectorAll("input[name=date-order]")) {
    radio.addEventListener("change", (e) => changeReview({ date_order: e.target.value }));
  }
  $("review-skip").addEventListener("change", renderReview);
  $("wheel-select").addEventListener("change", (e) => localStorage.setItem(WHEEL_KEY, e.target.value));
  $("show-wheel").addEventListener("click", () => {
    if ($("wheel-select").value) openWheel($("wheel-select").value, { scroll: true });
  });
  $("wheel-close").addEventListener("click", () => { closeWheel(); render(); });
  $("file-input").addEventListener("change", fileChosen);
  const zone = $("drop-zone");
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", dropFile);
  $("cancel").addEventListener("click", () => cancelJob(state.jobs.get(state.currentId)));
  $("retry").addEventListener("click", () => retryJob(state.jobs.get(state.currentId)));
  $("show-retry").addEventListener("click", () => makeCurrent(state.retries.get(state.currentId)));
  $("open-wheel").addEventListener("click", () => {
    const job = state.jobs.get(state.currentId);
    if (job) openWheel(job.wheel_id, { scroll: true });
  });
  $("errors").addEventListener("click", () => downloadErrors(state.jobs.get(state.currentId)));
  for (const [id, key] of [["filter-wheel", "wheel"], ["filter-status", "status"]]) {
    $(id).addEventListener("change", (e) => {
      state.list[key] = e.target.value;
      loadList({ reset: true }).catch((err) => setText($("upload-error"), err.message));
    });
  }
  $("jobs-more").addEventListener("click", () => loadList().catch((err) => setText($("upload-error"), err.message)));
  window.addEventListener("hashchange", async () => { await readFragment(); signIn(); });
  await readFragment();
  signIn();
}

init();
